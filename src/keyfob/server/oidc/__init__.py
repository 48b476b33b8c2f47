"""The OpenID Connect endpoints (issue 8): discovery, authorization, token, userinfo and the
rest of the provider, with RFC 6749 errors rendered by this surface. Being written; nothing here
yet. Like every surface it may use keyfob.server.services and keyfob.server.infra, never another
surface (the import contract in pyproject.toml)."""
