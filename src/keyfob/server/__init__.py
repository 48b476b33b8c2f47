"""keyfob's ASGI server: thin routes over :mod:`keyfob.core` and :mod:`keyfob.store`."""
