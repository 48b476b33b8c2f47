"""``python -m keyfob``: the ``keyfob`` command."""

from keyfob.cli import main

main()
