"""Verify a JWT with Node's ``jsonwebtoken`` and a public JWK, as a Node.js relying party does.

``jwt.verify(token, crypto.createPublicKey({key: jwk, format: 'jwk'}), options)`` in
``tests/clients`` (jsonwebtoken 9 verifies RS256 and ES256, not EdDSA). Skips the calling test
when Node.js or the package is missing, and fails instead when ``KEYFOB_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.browser_fixtures import unavailable
from tests.jsonwebtoken import JsonWebTokenError
from tests.node_clients import CLIENTS_DIR, missing_reason

_SCRIPT = r"""
const crypto = require('crypto');
const jwt = require('jsonwebtoken');
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { token, jwk, options } = JSON.parse(input);
  let result;
  try {
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    const { header, payload } = jwt.verify(token, key, { ...options, complete: true });
    result = { ok: true, header, payload };
  } catch (err) {
    result = { ok: false, error: err.name, message: err.message };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
});
"""


def verify_with_node(
    token: str, jwk: dict[str, Any], **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(header, payload)`` ``jwt.verify`` returns; ``options`` are jsonwebtoken's
    (``algorithms``, ``issuer``, ``audience``, ``clockTimestamp``...). Raises
    :class:`JsonWebTokenError` when it refuses the token."""
    reason = missing_reason()
    if reason is None and not (CLIENTS_DIR / "node_modules" / "jsonwebtoken").is_dir():
        reason = "jsonwebtoken is not in tests/clients/node_modules"
    if reason is not None:
        unavailable(f"Node's jsonwebtoken is unavailable: {reason}")
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "-e", _SCRIPT],
        cwd=CLIENTS_DIR,
        input=json.dumps({"token": token, "jwk": jwk, "options": options}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"node exited {result.returncode}: {result.stderr[-2000:]}")
    answer = json.loads(result.stdout)
    if not answer["ok"]:
        raise JsonWebTokenError(answer["error"], answer["message"])
    return answer["header"], answer["payload"]
