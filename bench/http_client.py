"""A minimal HTTP/1.1 keep-alive client over asyncio streams, for load generation.

httpx spends more CPU per request than the server under test, so one client core could not
saturate one server core with it. This client does only what the benchmark needs: one request at
a time per connection, ``Content-Length`` or chunked response bodies, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

_MAX_HEADER_BYTES = 64 * 1024


class HttpError(Exception):
    """The server answered something this client cannot parse, or closed the connection."""


class Connection:
    """One persistent HTTP/1.1 connection; not safe for concurrent requests."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._host_header = f"{host}:{port}".encode("ascii")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        """Close the socket (a later request reconnects)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and read the whole response: ``(status, body)``."""
        status, _, response_body = await self.request_headers(
            method, path, body=body, headers=headers
        )
        return status, response_body

    async def request_headers(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request: ``(status, headers (lower-case names), body)``."""
        lines = [f"{method} {path} HTTP/1.1".encode("ascii"), b"host: " + self._host_header]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode("latin-1"))
        if body is not None:
            lines.append(b"content-length: " + str(len(body)).encode("ascii"))
        try:
            reader, writer = await self._connect()
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))
            status, response_headers, response_body, keep_alive = await _read_response(reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
            await self.close()
            raise HttpError(f"connection failed: {exc!r}") from exc
        if not keep_alive:
            await self.close()
        return status, response_headers, response_body

    async def post_json(self, path: str, payload: Any) -> tuple[int, bytes]:
        """POST ``payload`` as JSON."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.request(
            "POST", path, body=body, headers={"content-type": "application/json"}
        )


async def _read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > _MAX_HEADER_BYTES:
        raise HttpError("response headers too large")
    status_line, _, header_block = head.partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"bad status line {status_line!r}")
    status = int(parts[1])
    length: int | None = None
    chunked = False
    keep_alive = parts[0] == b"HTTP/1.1"
    headers: list[tuple[str, str]] = []
    for line in header_block.split(b"\r\n"):
        name, _, raw_value = line.partition(b":")
        name = name.strip().lower()
        if name:
            headers.append((name.decode("latin-1"), raw_value.strip().decode("latin-1")))
        value = raw_value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep_alive = value != b"close"
    if chunked:
        return status, headers, await _read_chunked(reader), keep_alive
    if length is None:
        if status in (204, 304) or 100 <= status < 200:
            return status, headers, b"", keep_alive
        return status, headers, await reader.read(), False
    return status, headers, await reader.readexactly(length), keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def wait_until_up(host: str, port: int, path: str, *, within: float) -> int:
    """Poll ``GET path`` for up to ``within`` seconds until the server answers at all.

    Returns the status it gave.

    Any HTTP answer means uvicorn is accepting connections, which it does only after the app's
    lifespan (migrations, key loading) has finished.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        connection = Connection(host, port)
        try:
            status, _ = await connection.request("GET", path)
            return status
        except (OSError, HttpError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)
        finally:
            await connection.close()
