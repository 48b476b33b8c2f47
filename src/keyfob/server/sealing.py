"""The one-time upgrade of sealed blobs to format 2, where each is bound to its row.

Databases from before format 2 hold blobs bound to their purpose only, which could be moved to
another row of the same table (two clients' secrets swapped, say). The first ``keyfob migrate``
or start after the upgrade re-seals every such blob bound to its row (kid or client id), with a
compare-and-set so that concurrent starts cannot clash, then records ``sealed_format = 2`` among
the admin settings; from then on a format-1 blob is refused like any other bad blob.
"""

from __future__ import annotations

import logging

from keyfob.core.secretbox import FORMAT, is_legacy, upgrade
from keyfob.server.keyring import SEAL_PURPOSE as KEY_PURPOSE
from keyfob.store import Store

log = logging.getLogger("keyfob")

SEALED_FORMAT_SETTING = "sealed_format"
CLIENT_PURPOSE = "client-secret"


async def upgrade_sealed_blobs(store: Store, secret_key: str) -> int:
    """Re-seal the format-1 blobs of ``store`` bound to their rows, once; return how many.

    ``SealedDataError`` (one clear line from the CLI) if one does not unseal: the secret key
    changed or the blob was altered, and nothing is marked upgraded.
    """
    if (await store.admin_settings()).get(SEALED_FORMAT_SETTING) == str(FORMAT):
        return 0
    upgraded = 0
    for key in await store.signing_keys():
        if is_legacy(key.sealed_private_key):
            new = upgrade(secret_key, key.sealed_private_key, purpose=KEY_PURPOSE, row=key.kid)
            upgraded += await store.reseal_signing_key(key.kid, key.sealed_private_key, new)
    for client in await store.list_clients():
        if is_legacy(client.sealed_secret):
            new = upgrade(secret_key, client.sealed_secret, purpose=CLIENT_PURPOSE, row=client.id)
            upgraded += await store.reseal_client_secret(client.id, client.sealed_secret, new)
    await store.set_admin_setting(SEALED_FORMAT_SETTING, str(FORMAT))
    if upgraded:
        log.info(
            "Sealed %d stored secrets anew, each bound to its row (format %d).", upgraded, FORMAT
        )
    return upgraded
