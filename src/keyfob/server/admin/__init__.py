"""The admin panel at ``/admin``: clients, users, permissions, settings and the audit log."""
