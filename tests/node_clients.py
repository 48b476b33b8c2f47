"""Real wallet clients for the tests: viem, siwe + ethers, @nimiq/core, Solana, WebCrypto.

Drives ``tests/clients/signer.mjs`` (one long-lived Node.js process, one JSON line per request)
so tests sign in the way real wallets do. Register the ``node_clients`` fixture with
``pytest_plugins = ["tests.node_clients"]``; it skips when Node.js or ``tests/clients/node_modules``
is missing, and fails instead when ``KEYFOB_REQUIRE_SERVICES=1`` (CI must never skip silently).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import pytest

from tests.paths import ROOT

CLIENTS_DIR = ROOT / "tests" / "clients"
SIGNER = CLIENTS_DIR / "signer.mjs"
REQUIRE_ENV = "KEYFOB_REQUIRE_SERVICES"
_EOF = object()


class NodeClientError(RuntimeError):
    """A request the signer process refused or could not answer."""


def _hex(key: str | bytes) -> str:
    return key.hex() if isinstance(key, bytes) else key


def _when(value: str | datetime | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("datetimes sent to the clients must be timezone-aware")
    spec = "seconds" if value.microsecond == 0 else "milliseconds"
    return value.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True)
class SiweFields:
    """EIP-4361 fields a client fills in; the address comes from the signing key."""

    domain: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str | datetime | None = None
    expiration_time: str | datetime | None = None
    not_before: str | datetime | None = None
    statement: str | None = None
    resources: Sequence[str] | None = None
    request_id: str | None = None
    scheme: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The camelCase object the signer expects (absent fields left out)."""
        return _compact(
            {
                "domain": self.domain,
                "uri": self.uri,
                "chainId": self.chain_id,
                "nonce": self.nonce,
                "issuedAt": _when(self.issued_at),
                "expirationTime": _when(self.expiration_time),
                "notBefore": _when(self.not_before),
                "statement": self.statement,
                "resources": None if self.resources is None else list(self.resources),
                "requestId": self.request_id,
                "scheme": self.scheme,
            }
        )


@dataclass(frozen=True)
class SolanaSignInInput:
    """Sign In With Solana input (wallet-standard ``SolanaSignInInput``)."""

    domain: str
    uri: str
    version: str
    nonce: str
    issued_at: str | datetime
    address: str | None = None
    statement: str | None = None
    chain_id: str | None = None
    expiration_time: str | datetime | None = None
    not_before: str | datetime | None = None
    request_id: str | None = None
    resources: Sequence[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The camelCase object the signer expects (absent fields left out)."""
        return _compact(
            {
                "domain": self.domain,
                "address": self.address,
                "statement": self.statement,
                "uri": self.uri,
                "version": self.version,
                "chainId": self.chain_id,
                "nonce": self.nonce,
                "issuedAt": _when(self.issued_at),
                "expirationTime": _when(self.expiration_time),
                "notBefore": _when(self.not_before),
                "requestId": self.request_id,
                "resources": None if self.resources is None else list(self.resources),
            }
        )


@dataclass(frozen=True)
class EthSignIn:
    """A SIWE message a client built and its EIP-191 signature (0x-hex, 65 bytes)."""

    message: str
    signature: str
    address: str


@dataclass(frozen=True)
class EthSignature:
    """An EIP-191 personal_sign signature (0x-hex) and the signer's checksummed address."""

    signature: str
    address: str


@dataclass(frozen=True)
class NimiqSignature:
    """A Keyguard-style Nimiq message signature (hex) with the key and user-friendly address."""

    signature: str
    public_key: str
    address: str


@dataclass(frozen=True)
class SolanaSignIn:
    """A Sign In With Solana message, its Ed25519 signature, and the library's own verdict."""

    message: str
    signature: str
    signature_hex: str
    address: str
    public_key: str
    self_verified: bool


@dataclass(frozen=True)
class SessionKey:
    """A WebCrypto key pair held by the signer process; only the public JWK leaves it."""

    id: str
    public_jwk: dict[str, Any]


class NodeClients:
    """One running ``signer.mjs``; ``request`` is thread-safe and answers in order."""

    def __init__(self, *, node: str = "node", timeout: float = 30.0) -> None:
        """Start the signer under ``node``; each request waits at most ``timeout`` seconds."""
        self._timeout = timeout
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._responses: queue.Queue[object] = queue.Queue()
        # Lives as long as the process; a file, unlike a pipe, cannot fill up and stall Node.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [node, str(SIGNER)],
            cwd=CLIENTS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read, name="node-clients", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray log line, not a response
            if isinstance(msg, dict) and "seq" in msg:
                self._responses.put(msg)
        self._responses.put(_EOF)

    def _stderr_tail(self) -> str:
        if self._stderr.closed:
            return "(closed)"
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode("utf-8", "replace")

    def request(self, op: str, **params: Any) -> dict[str, Any]:
        """Send one operation; return its result, or raise NodeClientError."""
        with self._lock:
            seq = next(self._seq)
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(json.dumps({**params, "op": op, "seq": seq}) + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise NodeClientError(f"signer is gone: {self._stderr_tail()}") from exc
            while True:
                try:
                    msg = self._responses.get(timeout=self._timeout)
                except queue.Empty:
                    raise NodeClientError(f"{op}: no answer in {self._timeout}s") from None
                if msg is _EOF:
                    self._responses.put(_EOF)
                    raise NodeClientError(f"signer exited: {self._stderr_tail()}")
                assert isinstance(msg, dict)
                if msg["seq"] == seq:
                    break  # older answers belong to requests that timed out
        if not msg.pop("ok", False):
            raise NodeClientError(f"{op}: {msg.get('error')}")
        del msg["seq"]
        return msg

    def close(self) -> None:
        """Stop the signer (closing stdin ends its loop) and release its pipes."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()  # else the pipe is left to the garbage collector (a warning)
        self._stderr.close()

    def __enter__(self) -> NodeClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def viem_siwe(self, private_key: str | bytes, fields: SiweFields) -> EthSignIn:
        """Build with viem's ``createSiweMessage`` and sign with a viem local account."""
        r = self.request("viem.siwe", privateKey=_hex(private_key), fields=fields.to_json())
        return EthSignIn(r["message"], r["signature"], r["address"])

    def viem_sign(self, private_key: str | bytes, message: str) -> EthSignature:
        """Sign a server-built message with viem's ``account.signMessage``."""
        r = self.request("viem.signMessage", privateKey=_hex(private_key), message=message)
        return EthSignature(r["signature"], r["address"])

    def siwe_prepare(self, private_key: str | bytes, fields: SiweFields) -> EthSignIn:
        """Build with the ``siwe`` package's ``prepareMessage`` and sign with an ethers Wallet."""
        r = self.request("siwe.prepare", privateKey=_hex(private_key), fields=fields.to_json())
        return EthSignIn(r["message"], r["signature"], r["address"])

    def ethers_sign(self, private_key: str | bytes, message: str) -> EthSignature:
        """Sign a message with ethers ``Wallet.signMessage``."""
        r = self.request("ethers.signMessage", privateKey=_hex(private_key), message=message)
        return EthSignature(r["signature"], r["address"])

    def nimiq_sign(self, private_key: str | bytes, message: str) -> NimiqSignature:
        """Sign like Keyguard's ``signMessage`` with ``@nimiq/core``."""
        r = self.request("nimiq.signMessage", privateKey=_hex(private_key), message=message)
        return NimiqSignature(r["signature"], r["publicKey"], r["address"])

    def solana_sign_in(self, secret_key: str | bytes, sign_in: SolanaSignInInput) -> SolanaSignIn:
        """Sign in with Solana (``createSignInMessageText``) from a 32-byte Ed25519 seed."""
        r = self.request("solana.signIn", secretKey=_hex(secret_key), input=sign_in.to_json())
        return SolanaSignIn(
            r["message"],
            r["signature"],
            r["signatureHex"],
            r["address"],
            r["publicKey"],
            r["selfVerified"],
        )

    def session_key(self, alg: str) -> SessionKey:
        """Generate a WebCrypto key pair (``"Ed25519"`` or ``"P-256"``) inside the signer."""
        r = self.request("webcrypto.sessionKey", alg=alg)
        return SessionKey(r["id"], r["publicJwk"])

    def session_key_sign(self, key: SessionKey | str, message: str | bytes) -> str:
        """Sign with a session key; base64url signature (raw r||s for P-256)."""
        key_id = key.id if isinstance(key, SessionKey) else key
        if isinstance(message, bytes):
            r = self.request("webcrypto.sign", id=key_id, messageBase64url=_b64url(message))
        else:
            r = self.request("webcrypto.sign", id=key_id, message=message)
        signature: str = r["signature"]
        return signature


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def missing_reason() -> str | None:
    """Why the clients cannot run here, or None when Node.js and node_modules are present."""
    if shutil.which("node") is None:
        return "Node.js (node) is not on PATH"
    if not (CLIENTS_DIR / "node_modules").is_dir():
        return "tests/clients/node_modules is missing: run `npm ci --prefix tests/clients`"
    return None


def require_node_clients() -> None:
    """Skip the calling test when the clients cannot run; fail instead under REQUIRE_ENV=1."""
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the real clients are unavailable: {reason}")
    pytest.skip(f"real clients unavailable: {reason}")


@pytest.fixture(scope="session")
def node_clients() -> Iterator[NodeClients]:
    """The shared real-client signer; skips (or fails under KEYFOB_REQUIRE_SERVICES=1)."""
    require_node_clients()
    clients = NodeClients()
    try:
        clients.request("ping")
    except NodeClientError as exc:
        clients.close()
        pytest.fail(f"tests/clients/signer.mjs does not start: {exc}")
    yield clients
    clients.close()
