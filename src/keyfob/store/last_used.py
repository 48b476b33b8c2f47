"""When a session was last used, and from which network: kept to the minute, so that a browser
opening page after page does not write on every one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import String, bindparam, func, or_, update

from keyfob.store.schema import UTCDateTime

#: How fresh ``last_used_at`` is kept: a use within this of the last one writes nothing.
LAST_USED_STEP = timedelta(minutes=1)


def touching(table: Any, key: Any) -> Any:
    """UPDATE: the row of ``table`` (``sessions`` or ``sso_sessions``) whose ``key`` matches was
    used at ``now`` from the network ``area`` (None keeps the one it had), unless it was used
    already since ``used_since``. (``area``, not ``ip_area``: a parameter named after a column
    would join the SET.)"""
    c = table.c
    return (
        update(table)
        .where(
            key,
            or_(
                c.last_used_at.is_(None),
                c.last_used_at <= bindparam("used_since", type_=UTCDateTime()),
            ),
        )
        .values(
            last_used_at=bindparam("now", type_=UTCDateTime()),
            ip_area=func.coalesce(bindparam("area", type_=String()), c.ip_area),
        )
    )
