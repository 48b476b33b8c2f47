"""Shared fixtures: databases (SQLite and PostgreSQL) and the real wallet clients under Node."""

pytest_plugins = ["tests.db_fixtures", "tests.node_clients", "tests.browser_fixtures"]
