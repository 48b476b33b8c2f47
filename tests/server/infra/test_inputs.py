"""Bad input is refused at the edge (4xx in the surface's own format), never reaching a query.

On PostgreSQL each of the NUL cases was a 500 before (SQLite answered 4xx or stored it); a
username with a trailing newline was accepted on both.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import cbor2
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from keyfob.core.encoding import b64url_encode
from keyfob.server.services.clients import create_client
from tests.node_clients import NodeClients
from tests.server.admin.panel import sign_in_panel
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.signin import SOLANA_SEED, login, nonce, signed_in, solana_input

BAD_USERNAMES = ["\x00", "a\x00b", "alice\n", "alice\r", "\nalice", "al ice", "x" * 65, ""]


def assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == code, response.text


def assert_page_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("username", BAD_USERNAMES)
async def test_bad_usernames_are_refused_everywhere(server: Server, username: str) -> None:
    client, _ = await create_client(
        server.runtime, name="App", redirect_uris=[], registration_enabled=True, open_to_all=True
    )
    for path in (
        "/auth/passkey/register/options",
        "/auth/passkey/login/options",
        f"/auth/login/{client.id}/passkey/options",
        f"/auth/registration/{client.id}/options",
        "/admin/login/passkey/options",
    ):
        response = await server.post(path, {"username": username})
        assert_json_error(response, 422, "invalid_request")
        assert "username" in response.json()["message"]


async def test_good_username_still_registers(server: Server) -> None:
    options = await server.post("/auth/passkey/register/options", {"username": "alice.b+1@x"})
    assert options.status_code == 200, options.text
    assert options.json()["user"]["name"] == "alice.b+1@x"


@pytest.mark.parametrize("thumbprint", ["\x00", "A" * 42 + "\x00", "A/B", "A" * 129, "é"])
async def test_bad_thumbprint_for_a_token_is_422(server: Server, thumbprint: str) -> None:
    body = {"thumbprint": thumbprint, "timestamp": 1, "signature": "AA"}
    assert_json_error(await server.post("/auth/session-key/token", body), 422, "invalid_request")


@pytest.mark.parametrize(
    "path",
    [
        "/auth/session-keys/%00",
        "/auth/methods/a%0Ab",
        "/auth/me%7F",
        "/auth/session-keys/A%2BB",
        "/auth/methods/%C3%A9",
        "/auth/methods/'%20OR%201=1",
    ],
)
async def test_control_characters_in_api_urls_are_400(
    server: Server, node_clients: NodeClients, path: str
) -> None:
    tokens = await signed_in(server, node_clients)
    headers = {"authorization": f"Bearer {tokens['accessToken']}"}
    response = await server.client.request("DELETE", path, headers=headers)
    assert_json_error(response, 400, "invalid_url")


@pytest.mark.parametrize(
    "url",
    [
        "/auth/login/%00",
        "/auth/login/x?redirectUri=https://a.example/%0d%0aSet-Cookie:x",
        "/auth/registration/x?username=alice%0A",
        "/admin/users?q=%00",
        "/admin/audit?event=%1b[31m",
        "/admin/users/%C2%85",
        "/auth/login/%FF",
        "/auth/login/%E2%9C%93",
        "/admin/clients/%3Cscript%3E",
        "/auth/login/" + "x" * 3000,
    ],
)
async def test_control_characters_in_page_urls_get_an_error_page(server: Server, url: str) -> None:
    await sign_in_panel(server)
    assert_page_error(await server.client.get(url), 400)


async def test_page_json_bodies_refuse_control_characters(server: Server) -> None:
    client, _ = await create_client(server.runtime, name="App", redirect_uris=[])
    for body in (
        {"chain": "ethereum", "message": "m", "signature": "s", "state": "a\x00"},
        {"chain": "ethereum", "message": "m", "signature": "s", "redirectUri": "x\r\ny"},
        {"chain": "ethereum", "message": "m\x00", "signature": "s"},
    ):
        response = await server.post(f"/auth/login/{client.id}/wallet", body)
        assert_json_error(response, 422, "invalid_request")
    enrol = await server.post("/admin/enroll/options", {"token": "a\x00b"})
    assert_json_error(enrol, 422, "invalid_request")


async def test_admin_forms_refuse_control_characters(server: Server) -> None:
    panel = await sign_in_panel(server)
    form = {
        "name": "Evil\x1b[2J",
        "redirect_uris": "https://a.example/cb\r\nhttps://b.example/cb",
        "token_delivery": "query",
        "access": "open",
        "token_lifetime_minutes": "5",
        "authorized_client_lifetime_minutes": "60",
        "client_type": "confidential",
        "scopes": "openid",
        "subject_type": "public",
        "id_token_alg": "RS256",
    }
    refused = await panel.post("/admin/clients/new", form)
    assert_page_error(refused, 422)
    assert "control characters" in refused.text
    assert await server.runtime.store.list_clients() == []
    created = await panel.post("/admin/clients/new", {**form, "name": "Fine"})  # CRLF is fine
    assert created.status_code == 200, created.text
    [client] = await server.runtime.store.list_clients()
    assert client.redirect_uris == ("https://a.example/cb", "https://b.example/cb")


@pytest.mark.parametrize("bad_nonce", ["abcdefgh\x00", "abcd efgh", "a" * 129])
async def test_signed_message_with_a_nonce_keyfob_never_issues(
    server: Server, node_clients: NodeClients, bad_nonce: str
) -> None:
    # The signer chooses the nonce in its message; a valid signature over a NUL nonce reached
    # the nonce lookup (a 500 on PostgreSQL).
    issued = await nonce(server, "solana")
    signed = node_clients.solana_sign_in(SOLANA_SEED, solana_input(issued, nonce=bad_nonce))
    body = {"chain": "solana", "message": signed.message, "signature": signed.signature}
    response = await login(server, body)
    assert response.status_code in (400, 401, 422), response.text
    assert response.status_code < 500


def _registration(challenge: str, credential_id: bytes) -> dict[str, object]:
    """A registration response from a software authenticator ("none" attestation, P-256 key)
    with a credential id of our choosing: anyone can make one."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    cose = cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: key.x.to_bytes(32, "big"), -3: key.y.to_bytes(32, "big")}
    )
    auth_data = (
        hashlib.sha256(b"localhost").digest()
        + bytes([0x45])  # user present, user verified, attested credential data
        + (0).to_bytes(4, "big")
        + bytes(16)  # AAGUID
        + len(credential_id).to_bytes(2, "big")
        + credential_id
        + cose
    )
    client_data = {"type": "webauthn.create", "challenge": challenge, "origin": PUBLIC_URL}
    attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
    raw_id = b64url_encode(credential_id)
    return {
        "id": raw_id,
        "rawId": raw_id,
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url_encode(json.dumps(client_data).encode()),
            "attestationObject": b64url_encode(attestation),
        },
        "clientExtensionResults": {},
    }


@pytest.mark.parametrize(("length", "status"), [(32, 200), (191, 200), (192, 422), (1023, 422)])
async def test_credential_ids_longer_than_keyfob_stores_are_refused(
    server: Server, length: int, status: int
) -> None:
    # A credential id may be up to 1023 bytes (WebAuthn L3); keyfob's column holds 255
    # base64url characters (191 bytes). A longer one was a 500 on PostgreSQL at the insert.
    options = await server.post("/auth/passkey/register/options", {})
    assert options.status_code == 200, options.text
    credential = _registration(options.json()["challenge"], secrets.token_bytes(length))
    response = await server.post("/auth/passkey/register/verify", {"credential": credential})
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"] == "invalid_request"
