"""Verify tokens with Node's ``jsonwebtoken``, exactly as keyfob's docs tell relying parties.

Runs ``tests/clients/verify_jwt.cjs`` (``jwt.verify(token, secretKey, {algorithms: ['HS256']})``)
under Node.js. Skips the calling test when Node.js or the package is missing, and fails instead
when ``KEYFOB_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.browser_fixtures import unavailable
from tests.node_clients import CLIENTS_DIR, missing_reason

VERIFY_JWT = CLIENTS_DIR / "verify_jwt.cjs"


class JsonWebTokenError(Exception):
    """``jwt.verify`` refused the token: ``name`` is the error class (``TokenExpiredError``...)."""

    def __init__(self, name: str, message: str) -> None:
        """Keep jsonwebtoken's error ``name`` and ``message`` as they were."""
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _node() -> str:
    reason = missing_reason()
    if reason is None and not (CLIENTS_DIR / "node_modules" / "jsonwebtoken").is_dir():
        reason = (
            "jsonwebtoken is not in tests/clients/node_modules: run `npm ci --prefix tests/clients`"
        )
    if reason is not None:
        unavailable(f"Node's jsonwebtoken is unavailable: {reason}")
    node = shutil.which("node")
    assert node is not None
    return node


def verify_with_jsonwebtoken(token: str, secret_key: str) -> dict[str, Any]:
    """The payload ``jwt.verify`` returns for ``token``; raise JsonWebTokenError if it refuses."""
    result = subprocess.run(
        [_node(), str(VERIFY_JWT)],
        cwd=CLIENTS_DIR,
        input=json.dumps({"token": token, "secretKey": secret_key}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"verify_jwt.cjs exited {result.returncode}: {result.stderr[-2000:]}")
    answer = json.loads(result.stdout)
    if not answer["ok"]:
        raise JsonWebTokenError(answer["error"], answer["message"])
    payload: dict[str, Any] = answer["payload"]
    return payload
