"""Which ``sub`` a client sees: keyfob's user id, or a pairwise id for the client's sector."""

from __future__ import annotations

from keyfob.core.oidc_subjects import subject_for
from keyfob.server.oidc.provider import Provider
from keyfob.store.records import ClientRecord


def subject_of(provider: Provider, client: ClientRecord, user_id: str) -> str:
    """The subject of ``user_id`` for ``client`` (OIDC Core §8): pairwise subjects are an
    HMAC under a key derived from ``KEYFOB_SECRET_KEY`` (changing that key changes them)."""
    return subject_for(
        user_id,
        subject_type=client.subject_type,
        key=provider.pairwise_key,
        sector=client.sector_identifier,
    )
