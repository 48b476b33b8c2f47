"""The claims keyfob releases about a user (OpenID Connect Core 1.0 §5.1, §5.4), by scope.

- ``openid``: ``sub``, always.
- ``profile``: ``preferred_username`` and ``name``, both the username; for a user without one,
  the short form of their first wallet's address (:func:`short_address`); a passkey-only user
  without a username gets neither (§5.3.2: a claim with no value is left out).
- ``email``: only when the deployment sets a synthetic mail domain: ``email`` is
  ``<user id>@<domain>`` and ``email_verified`` is ``false``, since nobody proved a mailbox.
  The local part is keyfob's user id, the same for every client: a pairwise client that asks
  for ``email`` can correlate its users with other clients' through it, so the server should
  either not offer ``email`` to pairwise clients or pass the pairwise ``sub`` as ``user_id``.
- ``wallet`` (keyfob's own scope): ``wallets``, a list of objects, one per linked wallet, in the
  order given: ``{"account": "<CAIP-10 account id>", "chain": "<CAIP-2 chain id>"}``, the chain
  being the one the wallet proved itself on (``eip155:1``, ``solana:5eykt4Us…``,
  ``nimiq:mainnet``). The chain is also the account id's prefix; it is there so a client need
  not parse CAIP-10 to filter by chain. A user without wallets gets no ``wallets`` claim, as
  for ``profile`` (§5.3.2), not an empty list.

:data:`SCOPE_CLAIMS` says which claims each scope releases; :func:`claims_supported` is the
list Discovery's ``claims_supported`` advertises.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from keyfob.core.caip10 import format_account_id, parse_account_id
from keyfob.errors import ConfigurationError, InvalidRequest

SCOPE_CLAIMS = MappingProxyType(
    {
        "openid": ("sub",),
        "profile": ("name", "preferred_username"),
        "email": ("email", "email_verified"),
        "wallet": ("wallets",),
    }
)
# What keyfob's ID tokens may carry besides the scopes' claims (keyfob.core.oidc_id_token).
ID_TOKEN_CLAIMS = (
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "azp",
    "at_hash",
    "c_hash",
)
_ELLIPSIS = "\u2026"
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_LOCAL_PART = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class WalletClaim:
    """A wallet linked to the user: ``chain`` is ``ethereum``, ``solana`` or ``nimiq``,
    ``network`` the network it was proven on (an EIP-155 chain id, ``mainnet``...)."""

    chain: str
    network: str | int
    address: str


def short_address(wallet: WalletClaim) -> str:
    """A wallet address written short for display: ``0x`` and the first and last four hex
    digits of the EIP-55 address for Ethereum (``0x5aAe…eAed``), the first and last four
    characters otherwise (Solana base58; Nimiq's compact form, ``NQ07…ABCD``)."""
    address = parse_account_id(_account(wallet)).address
    head = 6 if wallet.chain == "ethereum" else 4
    return f"{address[:head]}{_ELLIPSIS}{address[-4:]}"


def userinfo_claims(
    *,
    subject: str,
    scopes: Collection[str],
    username: str | None,
    wallets: Sequence[WalletClaim],
    synthetic_email_domain: str | None,
    user_id: str,
) -> dict[str, Any]:
    """The UserInfo response (§5.3.2) for the granted ``scopes``; see the module docstring.

    :class:`InvalidRequest` for a wallet keyfob cannot write as CAIP-10 or a user id that is not
    an e-mail local part; :class:`ConfigurationError` for a synthetic domain that is no host.
    """
    if not isinstance(subject, str) or not subject:
        raise InvalidRequest("The sub of a UserInfo response is a non-empty string.")
    if isinstance(scopes, str):  # "openid profile" would match "profile" as a substring
        raise InvalidRequest("The granted scopes are a collection of scope names, not a string.")
    claims: dict[str, Any] = {"sub": subject}
    if "profile" in scopes:
        display = username or (short_address(wallets[0]) if wallets else None)
        if display:
            claims["preferred_username"] = claims["name"] = display
    if "email" in scopes and synthetic_email_domain is not None:
        claims["email"] = synthetic_email(user_id, domain=synthetic_email_domain)
        claims["email_verified"] = False
    if "wallet" in scopes and wallets:
        accounts = list(dict.fromkeys(_account(wallet) for wallet in wallets))
        claims["wallets"] = [
            {"account": account, "chain": str(parse_account_id(account).chain_id)}
            for account in accounts
        ]
    return claims


def synthetic_email(user_id: str, *, domain: str) -> str:
    """``<user_id>@<domain>``: the ``email`` of a deployment with a synthetic mail domain."""
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        raise ConfigurationError("The synthetic e-mail domain must be a lowercase host name.")
    if not isinstance(user_id, str) or not _LOCAL_PART.fullmatch(user_id):
        raise InvalidRequest("This user id cannot be the local part of an e-mail address.")
    return f"{user_id}@{domain}"


def released_claims(scopes: Iterable[str]) -> tuple[str, ...]:
    """The claims the granted ``scopes`` release (unknown scopes release none)."""
    return tuple(dict.fromkeys(c for scope in scopes for c in SCOPE_CLAIMS.get(scope, ())))


def claims_supported(scopes: Iterable[str] = SCOPE_CLAIMS) -> tuple[str, ...]:
    """Discovery's ``claims_supported``: ``sub``, the ID token's claims and those ``scopes``
    release."""
    return tuple(dict.fromkeys(("sub", *ID_TOKEN_CLAIMS, *released_claims(scopes))))


def _account(wallet: WalletClaim) -> str:
    if not isinstance(wallet, WalletClaim):
        raise InvalidRequest("A wallet claim is a WalletClaim.")
    return format_account_id(wallet.chain, wallet.network, wallet.address)
