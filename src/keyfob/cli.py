"""The ``keyfob`` console script: the server's CLI, or one line saying how to install it.

The script is installed with the base package (the library), but the CLI lives in
:mod:`keyfob.server.infra.cli` and needs the ``server`` extra; without it the command explains
that in one line instead of a traceback.
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'keyfob[server]'"


def main() -> None:
    """Run the server's CLI; exit with a one-line hint when the ``server`` extra is missing."""
    try:
        from keyfob.server.infra.cli import main as server_main  # imported only when run
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if not missing or missing == "keyfob":
            raise  # a bug in keyfob itself, not a missing extra: keep the traceback
        raise SystemExit(
            f"keyfob: the keyfob command needs the server extra ({missing} is not installed):"
            f" {INSTALL_HINT}"
        ) from None
    server_main()
