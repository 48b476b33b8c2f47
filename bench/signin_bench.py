"""keyfob's benchmark: full Ethereum and passkey sign-ins, guarded API calls, real servers.

Starts ``keyfob serve`` (one worker, SQLite in a fresh temporary data directory) and a small app
guarded by ``KeyfobAuthMiddleware`` (bench/protected_app.py), both pinned to one core, and drives
them from this process pinned to another core. Phases run one after the other:

  signin     POST /auth/nonce -> personal_sign -> POST /auth/login, wallets from a fixed pool
  passkey    POST /auth/passkey/login/options -> ES256 assertion -> POST /auth/passkey/login/verify,
             usernameless, with passkeys registered before the phase (bench/authenticator.py)
  protected  GET /protected with Bearer tokens from the sign-ins (the verifier's token cache on)
  uncached   the same with the verifier's cache off: every call verifies the JWT signature
  unguarded  GET /public, allowlisted by the middleware: the app without the guard, a baseline
  oidc-code  POST /oidc/token (authorization_code) with codes collected just before the phase
  oidc-refresh  POST /oidc/token (refresh_token), a rotating chain per connection
             (both OIDC phases once per ``--oidc-algs`` ID-token algorithm, one client each)

Run ``./dev bench --help``; docs/benchmarks.md has the figures and the command behind them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from authenticator import Passkey
from http_client import Connection, HttpError, wait_until_up
from loadgen import (
    Iteration,
    Recorder,
    get_iteration,
    passkey_iteration,
    register_passkey,
    run_load,
    sign_in_iteration,
)
from oidc_load import (
    OidcClient,
    code_iteration,
    collect_codes,
    refresh_iteration,
    register_client,
    sign_in_browser,
)
from profiling import start_py_spy, summarise
from report import machine, report, summary
from servers import (
    HOST,
    ServerProcess,
    core_busy_seconds,
    cpu_seconds,
    start_keyfob,
    start_protected_app,
)
from wallet import wallet_pool

PHASES = ("signin", "passkey", "protected", "uncached", "unguarded", "oidc-code", "oidc-refresh")
OIDC_ALGS = ("RS256", "ES256", "EdDSA")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nonce-mode", choices=("stored", "signed"), default="stored", help="KEYFOB_NONCE_MODE"
    )
    parser.add_argument("--phases", default=",".join(PHASES), help=",".join(PHASES))
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--wallets", type=int, default=1000, help="size of the signing-key pool")
    parser.add_argument(
        "--passkeys", type=int, default=1000, help="passkeys registered for the passkey phase"
    )
    parser.add_argument(
        "--tokens", type=int, default=1000, help="access tokens for protected calls"
    )
    parser.add_argument(
        "--oidc-algs", default="RS256,EdDSA", help="ID-token algorithms of the OIDC phases"
    )
    parser.add_argument(
        "--codes",
        type=int,
        default=0,
        help="authorization codes collected before oidc-code (default: 2,500 per measured "
        "second, warm-up included)",
    )
    parser.add_argument("--browsers", type=int, default=8, help="signed-in browsers (OIDC)")
    parser.add_argument("--server-core", type=int, default=0, help="core for the servers")
    parser.add_argument("--client-core", type=int, default=1, help="core for the load generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--profile-dir", type=Path, help="py-spy every phase into this directory")
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    parser.add_argument("--gil", action="store_true", help="py-spy --gil (GIL holder only)")
    parser.add_argument(
        "--serve-command",
        help="command line that runs `keyfob serve` (default: the keyfob script next to this "
        "Python); for A/B runs of a patched server",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--keep-workdir", action="store_true", help="keep the data directory and server logs"
    )
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    args.oidc_algs = [a.strip() for a in args.oidc_algs.split(",") if a.strip()]
    if set(args.oidc_algs) - set(OIDC_ALGS):
        parser.error(f"--oidc-algs: choose from {', '.join(OIDC_ALGS)}")
    if not args.codes:
        args.codes = round(2500 * (args.warmup + args.duration))
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be between 1 and 1024")
    if "passkey" in args.phases and args.passkeys < args.connections:
        parser.error("--passkeys must be at least --connections (a passkey signs once at a time)")
    return args


class Bench:
    """One benchmark run: the servers, the wallets, the tokens and the results."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.server_core = None if args.no_pin else args.server_core
        self.client_core = None if args.no_pin else args.client_core
        self.wallets = wallet_pool(args.wallets)
        self.tokens: list[str] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.oidc_clients: dict[str, OidcClient] = {}
        self.cookies: list[str] = []
        self.refresh_tokens: dict[str, list[str]] = {}

    def log(self, text: str) -> None:
        """Progress on stderr, so stdout stays clean for ``--json``."""
        print(text, file=sys.stderr, flush=True)

    async def run(self) -> None:
        """Start keyfob, then run the chosen phases in order."""
        data_dir = self.workdir / "keyfob-data"
        data_dir.mkdir()
        with self.server(
            start_keyfob(
                data_dir,
                nonce_mode=self.args.nonce_mode,
                core=self.server_core,
                command=shlex.split(self.args.serve_command or "") or None,
            )
        ) as keyfob:
            await self.wait_up(keyfob)
            for phase in self.args.phases:
                if phase == "signin":
                    await self.signin_phase(keyfob)
                elif phase == "passkey":
                    await self.passkey_phase(keyfob)
                elif phase.startswith("oidc-"):
                    for alg in self.args.oidc_algs:
                        await self.oidc_phase(phase, alg, keyfob)
                else:
                    await self.app_phase(phase, keyfob)

    @contextlib.contextmanager
    def server(self, process: ServerProcess) -> Iterator[ServerProcess]:
        """Stop the server however the block ends; show its log if the block failed."""
        try:
            yield process
        except BaseException:
            self.log(f"--- last lines of the {process.name} log:\n{process.log_tail()}")
            raise
        finally:
            process.stop()

    async def wait_up(self, server: ServerProcess) -> None:
        """Wait for the server to answer ``/healthz`` (it listens only once its lifespan ran)."""
        deadline = time.monotonic() + 60
        while True:
            server.check_alive()
            try:
                status = await wait_until_up(HOST, server.port, "/healthz", within=0.5)
                break
            except HttpError:
                if time.monotonic() > deadline:
                    raise
        self.log(f"{server.name} up on {server.url} (pid {server.process.pid}, /healthz {status})")

    async def signin_phase(self, keyfob: ServerProcess) -> None:
        """Full sign-ins against keyfob; keeps access tokens for the later phases."""
        iteration = sign_in_iteration(self.wallets, self.tokens, self.args.tokens)
        await self.measure("signin", keyfob, iteration, primary="signin")

    async def passkey_phase(self, keyfob: ServerProcess) -> None:
        """Usernameless passkey sign-ins, after registering ``--passkeys`` accounts unmeasured."""
        passkeys = [Passkey(keyfob.url) for _ in range(self.args.passkeys)]
        started = time.perf_counter()

        async def worker(offset: int, workers: int) -> None:
            connection = Connection(HOST, keyfob.port)
            try:
                for passkey in passkeys[offset::workers]:
                    await register_passkey(connection, passkey)
            finally:
                await connection.close()

        await asyncio.gather(*(worker(offset, 8) for offset in range(8)))
        self.log(f"registered {len(passkeys)} passkeys in {time.perf_counter() - started:.1f} s")
        iteration = passkey_iteration(deque(passkeys), self.tokens, self.args.tokens)
        await self.measure("passkey", keyfob, iteration, primary="passkey")

    async def app_phase(self, phase: str, keyfob: ServerProcess) -> None:
        """GETs against the guarded app, with tokens (or none for the unguarded baseline)."""
        if phase != "unguarded" and not self.tokens:
            await self.collect_tokens(keyfob)
        app = start_protected_app(
            keyfob,
            core=self.server_core,
            cwd=self.workdir,
            cache_size=0 if phase == "uncached" else None,
        )
        with self.server(app):
            await self.wait_up(app)
            path, tokens = ("/public", []) if phase == "unguarded" else ("/protected", self.tokens)
            await self.measure(phase, app, get_iteration(path, tokens), primary="get")

    async def oidc_client(self, alg: str, keyfob: ServerProcess) -> OidcClient:
        """The phase's client for ``alg`` (registered once), and signed-in browsers."""
        if alg not in self.oidc_clients:
            self.oidc_clients[alg] = register_client(keyfob, alg=alg)
        client = self.oidc_clients[alg]
        if not self.cookies:
            connection = Connection(HOST, keyfob.port)
            try:
                for wallet in self.wallets[: self.args.browsers]:
                    self.cookies.append(await sign_in_browser(connection, keyfob, client, wallet))
            finally:
                await connection.close()
            self.log(f"signed in {len(self.cookies)} browsers (SSO cookies)")
        return client

    async def codes(self, client: OidcClient, keyfob: ServerProcess, count: int) -> deque[Any]:
        """``count`` fresh authorization codes from the signed-in browsers, oldest first."""
        started = time.perf_counter()
        workers = len(self.cookies)

        async def worker(offset: int) -> list[tuple[float, str]]:
            connection = Connection(HOST, keyfob.port)
            try:
                share = count // workers + (offset < count % workers)
                return await collect_codes(
                    connection, client, self.cookies[offset], share, start=offset * count
                )
            finally:
                await connection.close()

        batches = await asyncio.gather(*(worker(offset) for offset in range(workers)))
        codes = sorted(code for batch in batches for code in batch)
        elapsed = time.perf_counter() - started
        self.log(f"collected {len(codes)} codes in {elapsed:.1f} s ({len(codes) / elapsed:.0f}/s)")
        return deque(codes)

    async def oidc_phase(self, phase: str, alg: str, keyfob: ServerProcess) -> None:
        """Code exchanges (codes collected unmeasured just before) or refresh chains."""
        client = await self.oidc_client(alg, keyfob)
        spare = self.refresh_tokens.setdefault(alg, [])
        name = f"{phase} {alg}"
        if phase == "oidc-code":
            codes = await self.codes(client, keyfob, self.args.codes)
            iteration = code_iteration(client, codes, spare)
            await self.measure(name, keyfob, iteration, primary="exchange")
            self.log(f"{len(codes)} codes left unused")
            return
        need = 2 * self.args.connections - len(spare)
        if need > 0:
            codes = await self.codes(client, keyfob, need)
            recorder = Recorder.window(warmup=0, duration=3600)
            exchange = code_iteration(client, codes, spare)
            connection = Connection(HOST, keyfob.port)
            try:
                for index in range(need):
                    await exchange(connection, recorder, index)
            finally:
                await connection.close()
        await self.measure(name, keyfob, refresh_iteration(client, spare), primary="refresh")

    async def collect_tokens(self, keyfob: ServerProcess) -> None:
        """Sign in ``--tokens`` times (bounded) when no sign-in phase provided tokens."""
        iteration = sign_in_iteration(self.wallets, self.tokens, self.args.tokens)
        recorder = Recorder.window(warmup=0, duration=3600)

        async def worker(offset: int, workers: int) -> None:
            connection = Connection(HOST, keyfob.port)
            try:
                for index in range(offset, self.args.tokens, workers):
                    await iteration(connection, recorder, index)
            finally:
                await connection.close()

        await asyncio.gather(*(worker(offset, 8) for offset in range(8)))
        if not self.tokens:
            raise RuntimeError(f"no sign-in succeeded: {dict(recorder.error_samples)}")
        self.log(f"collected {len(self.tokens)} access tokens")

    def cpu_sample(self, pid: int) -> dict[str, float]:
        """CPU seconds so far: the server (user, system), its core, all cores, this process."""
        user, system = cpu_seconds(pid)
        return {
            "server": user + system,
            "server_system": system,
            "server_core": core_busy_seconds(self.server_core),
            "machine": core_busy_seconds(None),
            "client": time.process_time(),
        }

    async def measure(
        self, phase: str, server: ServerProcess, iteration: Iteration, *, primary: str
    ) -> None:
        """Drive ``server`` with ``iteration`` and store the phase's figures."""
        args = self.args
        self.log(f"{phase}: {args.warmup:g} s warm-up + {args.duration:g} s measured")
        recorder = Recorder.window(warmup=args.warmup, duration=args.duration)
        cpu: dict[str, float] = {}

        async def watch() -> None:
            await asyncio.sleep(max(0.0, recorder.measure_from - time.perf_counter()))
            pid = server.process.pid
            before = self.cpu_sample(pid)
            spy = None
            if args.profile_dir is not None:
                args.profile_dir.mkdir(parents=True, exist_ok=True)
                output = args.profile_dir / f"{phase.replace(' ', '-')}-{args.nonce_mode}.txt"
                spy = start_py_spy(
                    pid,
                    output,
                    duration=args.duration,
                    core=self.client_core,
                    native=args.native,
                    gil=args.gil,
                )
            await asyncio.sleep(max(0.0, recorder.measure_until - time.perf_counter()))
            after = self.cpu_sample(pid)
            cpu.update({name: after[name] - before[name] for name in after})
            if spy is not None:
                await asyncio.to_thread(spy.wait, 30)
                self.log(summarise(output))

        await asyncio.gather(
            run_load(
                iteration,
                recorder,
                host=HOST,
                port=server.port,
                connections=args.connections,
            ),
            watch(),
        )
        server.check_alive()
        self.results[phase] = summary(recorder, primary, args.duration, cpu)


def pin_client(args: argparse.Namespace) -> None:
    """Pin this process (the load generator) to the client core."""
    if args.no_pin:
        return
    cores = os.sched_getaffinity(0)
    if {args.server_core, args.client_core} - cores or args.server_core == args.client_core:
        raise SystemExit(
            f"cores {args.server_core} and {args.client_core} must be two distinct cores of "
            f"{sorted(cores)}; choose others with --server-core/--client-core, or --no-pin"
        )
    os.sched_setaffinity(0, {args.client_core})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    pin_client(args)
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    workdir = Path(tempfile.mkdtemp(prefix="keyfob-bench-"))
    bench = Bench(args, workdir)
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(bench.run())
    except (RuntimeError, HttpError) as exc:
        bench.log(f"bench: {exc}")
        return 1
    finally:
        if args.keep_workdir:
            bench.log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        document = {
            "config": {**vars(args), "profile_dir": args.profile_dir and str(args.profile_dir)}
        }
        document.update(machine=machine(), phases=bench.results)
        print(json.dumps(document, indent=2))
    else:
        print(report(args, bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
