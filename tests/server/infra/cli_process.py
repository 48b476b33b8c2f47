"""The real ``keyfob`` command in a subprocess, with an environment of the test's own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.paths import ROOT

#: The command as a user runs it: the interpreter of the suite, the checkout's sources first.
KEYFOB = [sys.executable, "-m", "keyfob"]


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any ``KEYFOB_*``, the data in ``home/data``, and the
    given ``KEYFOB_*`` settings (``nonce_mode="x"`` sets ``KEYFOB_NONCE_MODE=x``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KEYFOB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env["KEYFOB_DATA_DIR"] = str(home / "data")
    env.update({f"KEYFOB_{name.upper()}": value for name, value in settings.items()})
    return env


def keyfob(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``keyfob ARGS`` to its end; its exit code, stdout and stderr."""
    return subprocess.run(
        [*KEYFOB, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    """A TCP port nothing listens on (now) on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    *args: str, env: dict[str, str], cwd: Path, port: int
) -> Iterator[subprocess.Popen[str]]:
    """``keyfob serve ARGS`` running until the block ends (answering /healthz on ``port``);
    then stopped, its output readable with ``communicate()``."""
    server = subprocess.Popen(
        [*KEYFOB, "serve", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            while True:
                assert server.poll() is None, f"keyfob serve exited: {server.communicate()}"
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "keyfob serve did not answer in 60 s"
                time.sleep(0.05)  # polling for a condition: the socket is not up yet
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
