"""Starting, pinning, watching and stopping the server processes the benchmark drives."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(command: list[str], core: int | None) -> list[str]:
    """``command`` prefixed with ``taskset -c core`` (unchanged when ``core`` is None)."""
    if core is None:
        return command
    taskset = shutil.which("taskset")
    if taskset is None:
        raise RuntimeError("taskset is not installed; pass --no-pin to run unpinned")
    return [taskset, "-c", str(core), *command]


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds a process has used so far, from ``/proc/<pid>/stat``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def core_busy_seconds(core: int | None) -> float:
    """Seconds core ``core`` (all cores if None) spent not idle, from ``/proc/stat``.

    Compared with the server's own CPU time it shows what else ran there: other processes,
    interrupts and the kernel's loopback networking.
    """
    name = "cpu" if core is None else f"cpu{core}"
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            ticks = [int(value) for value in fields[1:]]
            return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


@dataclass
class ServerProcess:
    """A child server, its log file and the port it listens on."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def check_alive(self) -> None:
        """Raise with the tail of the log if the process has exited."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful stop), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _spawn(name: str, command: list[str], *, env: dict[str, str], cwd: Path) -> ServerProcess:
    port = int(command[command.index("--port") + 1])
    log_path = cwd / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    return ServerProcess(name=name, port=port, process=process, log_path=log_path, env=env)


def keyfob_command() -> list[str]:
    """The ``keyfob`` console script next to this interpreter, or an equivalent."""
    script = Path(sys.executable).with_name("keyfob")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from keyfob.server.infra.cli import main; main()"]


def start_keyfob(
    data_dir: Path, *, nonce_mode: str, core: int | None, command: list[str] | None = None
) -> ServerProcess:
    """``keyfob serve`` (one worker) on SQLite in ``data_dir``, rate limit off.

    ``command`` replaces the ``keyfob`` script (``serve`` and the bind options are appended).
    """
    port = free_port()
    env = {
        **os.environ,
        "KEYFOB_DATA_DIR": str(data_dir),
        "KEYFOB_PUBLIC_URL": f"http://{HOST}:{port}",
        "KEYFOB_SECRET_KEY": secrets.token_urlsafe(32),
        "KEYFOB_NONCE_MODE": nonce_mode,
        "KEYFOB_RATE_LIMIT": "0",
        "KEYFOB_LOG_LEVEL": "warning",
    }
    env.pop("KEYFOB_DATABASE_URL", None)
    serve = [*(command or keyfob_command()), "serve", "--host", HOST, "--port", str(port)]
    serve += ["--workers", "1"]
    return _spawn("keyfob", pinned(serve, core), env=env, cwd=data_dir)


def start_protected_app(
    keyfob: ServerProcess, *, core: int | None, cwd: Path, cache_size: int | None
) -> ServerProcess:
    """The demo app guarded by ``KeyfobAuthMiddleware`` (bench/protected_app.py)."""
    port = free_port()
    command = [
        sys.executable,
        str(BENCH_DIR / "protected_app.py"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--keyfob-url",
        keyfob.url,
    ]
    if cache_size is not None:
        command += ["--cache-size", str(cache_size)]
    return _spawn("protected-app", pinned(command, core), env=dict(os.environ), cwd=cwd)
