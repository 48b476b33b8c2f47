"""Edits the negative-case tables of the chain tests apply to a good sign-in attempt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Case = Callable[[dict[str, Any]], None]


def replace_in(field: str, old: str, new: str) -> Case:
    """Replace ``old`` (which must be there) with ``new`` in one field of the attempt."""

    def change(attempt: dict[str, Any]) -> None:
        assert old in attempt[field]
        attempt[field] = attempt[field].replace(old, new)

    return change


def set_fields(**values: Any) -> Case:
    """Overwrite fields of the attempt."""
    return lambda attempt: attempt.update(values)
