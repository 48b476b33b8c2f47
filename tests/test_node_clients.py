"""The real-client harness (tests/clients/signer.mjs) checked against known answers."""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from coincurve import PublicKey as SecpPublicKey
from Crypto.Hash import keccak
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.node_clients import (
    REQUIRE_ENV,
    NodeClientError,
    NodeClients,
    SiweFields,
    SolanaSignInInput,
    require_node_clients,
)
from tests.paths import VECTORS

KEY_ONE = "00" * 31 + "01"
KEY_ONE_ETH_ADDRESS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
KEYGUARD_KEY = "682df035c30e8c55bda4ab517213792c2af4b4e9c23ac2cf11bd28b237a6544e"
KEYGUARD_PUBLIC = "0a9b55420d3664996800f1d48f5683ced9b6666fd7d09e61641826f177350980"
KEYGUARD_ADDRESS = "NQ71 CT4K 7R9R EHSB 7HY9 TSTP XNRQ L2RK 8U4U"
FIELDS = SiweFields(
    domain="login.example.com",
    uri="https://login.example.com/signin",
    chain_id=1,
    nonce="n0nce1234567890ab",
    issued_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    expiration_time="2024-05-01T12:05:00Z",
    statement="Sign in to keyfob.",
    resources=["https://login.example.com/terms"],
)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    hexaddr = raw.hex()
    nibbles = keccak256(hexaddr.encode()).hex()
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(hexaddr, nibbles))


def eth_address(public_key: SecpPublicKey) -> str:
    return checksum_address(keccak256(public_key.format(compressed=False)[1:])[-20:])


def recover_personal_sign(message: str, signature: str) -> str:
    """The address that produced an EIP-191 personal_sign signature, recovered independently."""
    data = message.encode()
    digest = keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
    sig = bytes.fromhex(signature.removeprefix("0x"))
    recoverable = sig[:64] + bytes([sig[64] - 27])
    return eth_address(SecpPublicKey.from_signature_and_message(recoverable, digest, hasher=None))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_known_address_of_key_one() -> None:
    pub = SecpPublicKey.from_secret(bytes.fromhex(KEY_ONE))
    assert eth_address(pub) == KEY_ONE_ETH_ADDRESS


@pytest.mark.parametrize("signer", ["ethers_sign", "viem_sign"])
def test_eth_signature_recovers_known_address(node_clients: NodeClients, signer: str) -> None:
    signed = getattr(node_clients, signer)(KEY_ONE, "keyfob fixed message")
    assert signed.address == KEY_ONE_ETH_ADDRESS
    assert recover_personal_sign("keyfob fixed message", signed.signature) == KEY_ONE_ETH_ADDRESS
    assert recover_personal_sign("keyfob fixed messagE", signed.signature) != KEY_ONE_ETH_ADDRESS


def test_viem_and_ethers_agree(node_clients: NodeClients) -> None:
    # RFC 6979 nonces: two libraries, one key, one message, one signature.
    viem = node_clients.viem_sign("0x" + KEY_ONE, "same")
    ethers = node_clients.ethers_sign(bytes.fromhex(KEY_ONE), "same")
    assert viem == ethers


SIWE_LINE = re.compile(
    r"^login\.example\.com wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n\n"
    r"Sign in to keyfob\.\n\n"
    r"URI: https://login\.example\.com/signin\n"
    r"Version: 1\n"
    r"Chain ID: 1\n"
    r"Nonce: n0nce1234567890ab\n"
    r"Issued At: 2024-05-01T12:00:00(\.000)?Z\n"
    r"Expiration Time: 2024-05-01T12:05:00(\.000)?Z\n"
    r"Resources:\n- https://login\.example\.com/terms$"
)


@pytest.mark.parametrize("builder", ["viem_siwe", "siwe_prepare"])
def test_siwe_messages_well_formed_and_signed(node_clients: NodeClients, builder: str) -> None:
    signed = getattr(node_clients, builder)(KEY_ONE, FIELDS)
    match = SIWE_LINE.match(signed.message)
    assert match, signed.message
    assert match["address"] == signed.address == KEY_ONE_ETH_ADDRESS
    assert recover_personal_sign(signed.message, signed.signature) == KEY_ONE_ETH_ADDRESS


def test_siwe_builders_differ_only_in_time_format(node_clients: NodeClients) -> None:
    viem = node_clients.viem_siwe(KEY_ONE, FIELDS).message
    siwe = node_clients.siwe_prepare(KEY_ONE, FIELDS).message
    assert viem.replace(".000Z", "Z") == siwe


def test_nimiq_fixed_vector(node_clients: NodeClients) -> None:
    vector = json.loads((VECTORS / "nimiq" / "fixed_vector.json").read_text())
    signed = node_clients.nimiq_sign(vector["privateKey"], vector["message"])
    assert signed.signature == vector["signature"]
    assert signed.public_key == vector["publicKey"]
    assert signed.address == vector["address"]


def test_nimiq_keyguard_vector(node_clients: NodeClients) -> None:
    signed = node_clients.nimiq_sign(KEYGUARD_KEY, "any message")
    assert (signed.public_key, signed.address) == (KEYGUARD_PUBLIC, KEYGUARD_ADDRESS)
    data = b"any message"
    prefixed = b"\x16Nimiq Signed Message:\n" + str(len(data)).encode() + data
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(KEYGUARD_PUBLIC)).verify(
        bytes.fromhex(signed.signature), sha256(prefixed).digest()
    )


SOLANA_INPUT = SolanaSignInInput(
    domain="login.example.com",
    uri="https://login.example.com",
    version="1",
    nonce="abcdef12",
    issued_at="2024-05-01T12:00:00Z",
    statement="Sign in to keyfob.",
    chain_id="solana:mainnet",
    resources=["https://login.example.com/terms"],
)


def test_solana_sign_in(node_clients: NodeClients) -> None:
    vector = json.loads((VECTORS / "nimiq" / "fixed_vector.json").read_text())
    signed = node_clients.solana_sign_in(KEY_ONE, SOLANA_INPUT)
    assert signed.self_verified is True
    # Same Ed25519 seed as the Nimiq vector, so the same public key.
    assert signed.public_key == vector["publicKey"]
    assert signed.message.startswith(
        f"login.example.com wants you to sign in with your Solana account:\n{signed.address}\n"
    )
    assert "\nNonce: abcdef12\n" in signed.message
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(signed.public_key)).verify(
        bytes.fromhex(signed.signature_hex), signed.message.encode()
    )


def test_session_key_p256(node_clients: NodeClients) -> None:
    key = node_clients.session_key("P-256")
    jwk = key.public_jwk
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"])),
        int.from_bytes(b64url_decode(jwk["y"])),
        ec.SECP256R1(),
    ).public_key()
    raw = b64url_decode(node_clients.session_key_sign(key, b"\x00payload\xff"))
    assert len(raw) == 64  # raw r||s, not DER
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public.verify(der, b"\x00payload\xff", ec.ECDSA(hashes.SHA256()))


def test_session_key_ed25519(node_clients: NodeClients) -> None:
    key = node_clients.session_key("Ed25519")
    assert (key.public_jwk["kty"], key.public_jwk["crv"]) == ("OKP", "Ed25519")
    signature = b64url_decode(node_clients.session_key_sign(key.id, "hello"))
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(key.public_jwk["x"]))
    public.verify(signature, b"hello")


def test_concurrent_requests_get_their_own_answers(node_clients: NodeClients) -> None:
    messages = [f"message {i}" for i in range(16)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda m: node_clients.ethers_sign(KEY_ONE, m), messages))
    for message, signed in zip(messages, results, strict=True):
        assert recover_personal_sign(message, signed.signature) == KEY_ONE_ETH_ADDRESS


@pytest.mark.parametrize(
    ("op", "params", "error"),
    [
        ("no.such.op", {}, "unknown op"),
        ("ethers.signMessage", {"privateKey": "zz" * 32, "message": "m"}, "privateKey"),
        ("viem.signMessage", {"privateKey": "01", "message": "m"}, "privateKey"),
        ("viem.signMessage", {"privateKey": KEY_ONE}, "message"),
        ("nimiq.signMessage", {"privateKey": KEY_ONE, "message": 5}, "message"),
        ("viem.siwe", {"privateKey": KEY_ONE, "fields": {"domain": "d"}}, "uri"),
        ("siwe.prepare", {"privateKey": KEY_ONE}, "fields"),
        ("solana.signIn", {"secretKey": KEY_ONE[:-2]}, "secretKey"),
        ("webcrypto.sessionKey", {"alg": "RS256"}, "unsupported"),
        ("webcrypto.sign", {"id": "missing", "message": "m"}, "unknown session key"),
    ],
)
def test_bad_requests_raise(
    node_clients: NodeClients, op: str, params: dict[str, Any], error: str
) -> None:
    with pytest.raises(NodeClientError, match=error):
        node_clients.request(op, **params)


def test_closed_clients_raise() -> None:
    require_node_clients()
    clients = NodeClients()
    assert clients.request("ping")["pong"] is True
    clients.close()
    with pytest.raises(NodeClientError):
        clients.request("ping")


@pytest.mark.parametrize(
    ("required", "outcome"),
    [("1", pytest.fail.Exception), ("0", pytest.skip.Exception), (None, pytest.skip.Exception)],
)
def test_missing_node_skips_or_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, required: str | None, outcome: type
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    if required is None:
        monkeypatch.delenv(REQUIRE_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ENV, required)
    with pytest.raises(outcome, match="node"):
        require_node_clients()
