"""The JSON API: wallet and passkey sign-in, tokens, session keys, account and step-up.

Its endpoints are declared once, in :mod:`keyfob.server.api.routes`; its errors are the JSON
body ``{"error": code, "message": sentence}`` (:mod:`keyfob.server.api.errors`).
"""
