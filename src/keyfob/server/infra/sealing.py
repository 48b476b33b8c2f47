"""The one-time upgrade of sealed blobs to format 2, where each is bound to its row.

Databases from before format 2 hold blobs bound to their purpose only, which could be moved to
another row of the same table (two clients' secrets swapped, say). ``keyfob migrate`` and every
start that migrates re-seal each such blob bound to the row it is in (kid or client id), with a
compare-and-set so that concurrent starts cannot clash; nothing else ever reads format 1
(:func:`keyfob.core.secretbox.unseal` refuses it), and nothing writes it any more.
"""

from __future__ import annotations

import logging

from keyfob.core.secretbox import is_legacy, upgrade
from keyfob.server.infra.keyring import SEAL_PURPOSE as KEY_PURPOSE
from keyfob.store import Store

log = logging.getLogger("keyfob")

CLIENT_PURPOSE = "client-secret"


async def upgrade_sealed_blobs(store: Store, secret_key: str) -> int:
    """Re-seal the format-1 blobs of ``store`` bound to their rows; return how many.

    ``SealedDataError`` (one clear line from the CLI) if one does not unseal: the secret key
    changed or the blob was altered.
    """
    upgraded = 0
    for key in await store.signing_keys():
        if is_legacy(key.sealed_private_key):
            new = upgrade(secret_key, key.sealed_private_key, purpose=KEY_PURPOSE, row=key.kid)
            upgraded += await store.reseal_signing_key(key.kid, key.sealed_private_key, new)
    for client in await store.list_clients():
        if is_legacy(client.sealed_secret):
            new = upgrade(secret_key, client.sealed_secret, purpose=CLIENT_PURPOSE, row=client.id)
            upgraded += await store.reseal_client_secret(client.id, client.sealed_secret, new)
    if upgraded:
        log.info("Sealed %d stored secrets anew, each bound to its row.", upgraded)
    return upgraded
