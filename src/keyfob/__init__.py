"""keyfob: a self-hosted, passwordless identity server and library.

People sign in by proving they hold a key (an Ethereum, Nimiq or Solana wallet, or later a
passkey); keyfob checks the signature and issues JWTs. See :mod:`keyfob.core` for the pure
protocol pieces, :mod:`keyfob.server` for the ASGI server and :mod:`keyfob.integrations` for
guards that apps use to accept keyfob's tokens.
"""

from keyfob.errors import KeyfobError

__all__ = ["KeyfobError", "__version__"]
__version__ = "0.1.0"
