"""The use cases several surfaces share: tokens, wallet and passkey sign-in, SSO, client apps,
enrolment links, session lifetimes and the audit log. No HTTP routes here."""
