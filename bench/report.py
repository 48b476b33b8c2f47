"""The benchmark's results: per-phase figures, the machine they came from, the printed report."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from loadgen import Recorder, percentile

#: The issue's targets on one pinned core of a 2-core machine.
TARGETS = {"signin": 1000.0, "protected": 5000.0, "oidc-code": 1500.0, "oidc-refresh": 2000.0}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "revision": revision(),
        "platform": platform.platform(),
    }


def revision() -> str:
    """The git commit measured, ``+dirty`` when the work tree has uncommitted changes."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def summary(
    recorder: Recorder, primary: str, duration: float, cpu: dict[str, float]
) -> dict[str, Any]:
    """Rate, latency percentiles (ms), CPU shares and errors of one phase."""
    latencies = {
        name: {
            "count": len(samples),
            "p50_ms": round(1000 * percentile(samples, 0.50), 3),
            "p99_ms": round(1000 * percentile(samples, 0.99), 3),
        }
        for name, samples in recorder.latencies.items()
    }
    done = len(recorder.latencies.get(primary, []))
    return {
        "per_second": round(done / duration, 1),
        "server_cpu_ms_per_op": round(1000 * cpu.get("server", 0.0) / max(1, done), 3),
        "latency": latencies,
        "cpu_share": {name: round(seconds / duration, 3) for name, seconds in cpu.items()},
        "errors": dict(recorder.errors),
        "error_samples": recorder.error_samples,
    }


LABELS = {
    "signin": ("sign-ins/s", "signin", ("nonce", "login")),
    "passkey": ("passkey sign-ins/s (usernameless)", "passkey", ("options", "verify")),
    "protected": ("protected calls/s (verifier cache on)", "get", ()),
    "uncached": ("protected calls/s (verifier cache off)", "get", ()),
    "unguarded": ("unguarded calls/s (baseline)", "get", ()),
    "oidc-code": ("OIDC code exchanges/s", "exchange", ()),
    "oidc-refresh": ("OIDC refreshes/s", "refresh", ()),
}


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    """The human-readable report."""
    info = machine()
    pin = (
        "unpinned"
        if args.no_pin
        else f"server core {args.server_core}, client core {args.client_core}"
    )
    lines = [
        f"keyfob benchmark: nonce mode {args.nonce_mode}, {args.connections} connections, "
        f"{args.duration:g} s per phase after {args.warmup:g} s warm-up, {pin}",
        f"machine: {info['cpus']} CPUs, {info['cpu_model']}, Python {info['python']}; "
        f"keyfob {info['revision']}",
        "",
    ]
    for phase, result in results.items():
        kind, _, alg = phase.partition(" ")
        label, primary, parts = LABELS[kind]
        label = f"{label} ({alg})" if alg else label
        share = {name: round(100 * value) for name, value in result["cpu_share"].items()}
        where = "all cores" if args.no_pin else f"core {args.server_core}"
        lines.append(
            f"{label:42} {result['per_second']:9.1f}   "
            f"(server CPU {result['server_cpu_ms_per_op']:.3f} ms each)"
        )
        others = share.get("machine", 0) - share.get("server", 0) - share.get("client", 0)
        lines.append(
            f"  CPU: server {share.get('server', 0)}% (system {share.get('server_system', 0)}%), "
            f"{where} busy {share.get('server_core', 0)}%, client {share.get('client', 0)}%, "
            f"everything else {max(0, others)}%"
        )
        for name in (primary, *parts):
            stats = result["latency"].get(name)
            if stats:
                what = "whole sign-in" if name in ("signin", "passkey") else name
                lines.append(
                    f"  {what:18} p50 {stats['p50_ms']:8.2f} ms   p99 {stats['p99_ms']:8.2f} ms"
                    f"   ({stats['count']} ok)"
                )
        for key, count in sorted(result["errors"].items()):
            lines.append(f"  errors {key}: {count}  e.g. {result['error_samples'][key][:120]!r}")
        if kind in TARGETS:
            met = result["per_second"] >= TARGETS[kind]
            lines.append(f"  target {TARGETS[kind]:,.0f}/s: {'met' if met else 'NOT met'}")
    return "\n".join(lines)
