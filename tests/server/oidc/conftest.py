"""The live OIDC tests' module-scoped keyfob and callback page (see live.py)."""

from tests.server.oidc.live import live, rp_app

__all__ = ["live", "rp_app"]
