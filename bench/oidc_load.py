"""The OpenID Provider's token endpoint under load: code exchanges and refresh-token chains.

A client is registered with ``keyfob clients add`` against the running server's database; a few
browsers sign in on ``/oidc/login/wallet`` (their SSO cookies kept), and authorization codes come
from ``GET /oidc/authorize`` with those cookies, unmeasured, just before the measured batch.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from http_client import Connection, HttpError
from loadgen import Iteration, Recorder
from servers import ServerProcess, keyfob_command
from wallet import Wallet

REDIRECT_URI = "https://rp.example.com/cb"
SCOPE = "openid profile offline_access"


@dataclass(frozen=True)
class OidcClient:
    """A registered confidential client, its secret and its ID-token algorithm."""

    id: str
    secret: str
    alg: str

    def basic(self) -> str:
        """The ``Authorization`` header value for client_secret_basic."""
        raw = f"{self.id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def register_client(keyfob: ServerProcess, *, alg: str) -> OidcClient:
    """``keyfob clients add``: first-party, open, offline_access, client_secret_basic."""
    command = [*keyfob_command(), "clients", "add", "--name", f"bench {alg}"]
    command += ["--redirect-uri", REDIRECT_URI, "--registration", "--open", "--first-party"]
    command += ["--scope", SCOPE, "--id-token-alg", alg, "--auth-method", "client_secret_basic"]
    done = subprocess.run(
        command, env=keyfob.env, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"keyfob clients add failed: {done.stderr[-500:]}")
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines() if line.count(": ") == 1)
    return OidcClient(id=fields["clientId"], secret=fields["secretKey"], alg=alg)


def authorize_path(client: OidcClient, index: int) -> str:
    """``/oidc/authorize`` for a code (``state`` and ``nonce`` unique per request)."""
    query = {
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": f"st-{index}",
        "nonce": f"n-{index}",
    }
    return "/oidc/authorize?" + urlencode(query)


def _location(headers: list[tuple[str, str]]) -> str:
    return next((value for name, value in headers if name == "location"), "")


def _cookies(headers: list[tuple[str, str]], jar: dict[str, str]) -> None:
    for name, value in headers:
        if name == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, cookie = pair.partition("=")
            jar[key.strip()] = cookie.strip()


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{key}={value}" for key, value in jar.items())


async def sign_in_browser(
    connection: Connection, keyfob: ServerProcess, client: OidcClient, wallet: Wallet
) -> str:
    """A browser signs in with ``wallet`` on the OIDC sign-in page; its ``Cookie`` header."""
    jar: dict[str, str] = {}
    status, headers, body = await connection.request_headers("GET", authorize_path(client, 0))
    login = _location(headers)
    if status != 303 or not login.startswith("/oidc/login"):
        raise RuntimeError(f"authorize without a session answered {status} {login!r} {body!r}")
    _cookies(headers, jar)
    interaction = parse_qs(urlsplit(login).query)["interaction"][0]
    status, body = await connection.post_json(
        "/auth/nonce", {"chain": "ethereum", "address": wallet.address}
    )
    if status != 200:
        raise RuntimeError(f"nonce answered {status}: {body[:300]!r}")
    message = json.loads(body)["message"]
    payload = {"chain": "ethereum", "message": message, "signature": wallet.personal_sign(message)}
    request_headers = {"content-type": "application/json", "origin": keyfob.url}
    if jar:
        request_headers["cookie"] = _cookie_header(jar)
    status, headers, body = await connection.request_headers(
        "POST",
        "/oidc/login/wallet?" + urlencode({"interaction": interaction}),
        body=json.dumps(payload).encode(),
        headers=request_headers,
    )
    if status != 200:
        raise RuntimeError(f"/oidc/login/wallet answered {status}: {body[:300]!r}")
    _cookies(headers, jar)
    return _cookie_header(jar)


async def collect_codes(
    connection: Connection, client: OidcClient, cookie: str, count: int, start: int
) -> list[tuple[float, str]]:
    """``count`` authorization codes by ``GET /oidc/authorize`` with an SSO cookie, each with
    the time it was issued."""
    codes: list[tuple[float, str]] = []
    for index in range(start, start + count):
        status, headers, body = await connection.request_headers(
            "GET", authorize_path(client, index), headers={"cookie": cookie}
        )
        location = _location(headers)
        if status != 303 or not location.startswith(REDIRECT_URI):
            raise RuntimeError(f"authorize answered {status} {location!r}: {body[:300]!r}")
        codes.append((time.perf_counter(), parse_qs(urlsplit(location).query)["code"][0]))
    return codes


async def _token(
    connection: Connection, recorder: Recorder, client: OidcClient, name: str, form: dict[str, str]
) -> dict[str, str] | None:
    """``POST /oidc/token`` recorded as ``name``: the JSON of a 200, else None."""
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": client.basic(),
    }
    started = time.perf_counter()
    try:
        status, body = await connection.request(
            "POST", "/oidc/token", body=urlencode(form).encode(), headers=headers
        )
    except HttpError as exc:
        recorder.error(name, "connection", str(exc).encode(), time.perf_counter())
        return None
    finished = time.perf_counter()
    if status != 200:
        recorder.error(name, status, body, finished)
        return None
    recorder.ok(name, started, finished)
    tokens: dict[str, str] = json.loads(body)
    return tokens


def code_iteration(
    client: OidcClient, codes: deque[tuple[float, str]], refresh_tokens: list[str]
) -> Iteration:
    """One ``authorization_code`` exchange per call, oldest code first; keeps refresh tokens
    for the refresh phase. An empty pool is an error (``exchange exhausted``), never a wait."""

    async def iteration(connection: Connection, recorder: Recorder, index: int) -> None:
        if not codes:
            recorder.error("exchange", "exhausted", b"the code pool ran out", time.perf_counter())
            return
        issued, code = codes.popleft()
        if time.perf_counter() - issued > 55:
            recorder.error("exchange", "stale", b"code older than 55 s", time.perf_counter())
            return
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        tokens = await _token(connection, recorder, client, "exchange", form)
        if tokens is not None and "refresh_token" in tokens:
            refresh_tokens.append(tokens["refresh_token"])

    return iteration


def refresh_iteration(client: OidcClient, spare: list[str]) -> Iteration:
    """One ``refresh_token`` grant per call; each connection spends the token its previous
    grant returned (tokens rotate), starting from, and falling back to, one of ``spare``."""
    chains: dict[int, str] = {}

    async def iteration(connection: Connection, recorder: Recorder, index: int) -> None:
        key = id(connection)
        token = chains.pop(key, None)
        if token is None:
            if not spare:
                finished = time.perf_counter()
                recorder.error("refresh", "exhausted", b"no refresh token left", finished)
                return
            token = spare.pop()
        form = {"grant_type": "refresh_token", "refresh_token": token}
        tokens = await _token(connection, recorder, client, "refresh", form)
        if tokens is not None:
            chains[key] = tokens["refresh_token"]

    return iteration
