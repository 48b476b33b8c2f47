"""The page tests' module-scoped live keyfob, the one the live OIDC tests use (see
tests/server/oidc/live.py)."""

from tests.server.oidc.live import live

__all__ = ["live"]
