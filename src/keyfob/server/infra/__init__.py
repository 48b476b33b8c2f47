"""The server's infrastructure: app wiring, settings, runtime, keys, middleware, the CLI."""
