"""Optional py-spy sampling of a server during a measured window, and a text summary of it.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;...;leaf count``); the
summary ranks frames by self time (the leaf) and by inclusive time (anywhere on the stack).
Sampling is non-blocking (with ``--native`` py-spy must pause the target) and py-spy competes
for the client's core, so profiled runs are slower: take throughput figures from runs without
``--profile-dir``.
py-spy's idle detection misses threads parked in a timed wait (anyio's worker threads), so stacks
ending in :data:`IDLE_LEAVES` are left out of the summary.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from servers import pinned

IDLE_LEAVES = frozenset({"Condition.wait (threading.py)", "Queue.get (queue.py)"})


def py_spy_path() -> str:
    """The py-spy executable (next to this interpreter, or on PATH)."""
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def start_py_spy(
    pid: int, output: Path, *, duration: float, core: int | None, native: bool, gil: bool
) -> subprocess.Popen[bytes]:
    """Sample ``pid`` for ``duration`` seconds into ``output`` (raw collapsed stacks).

    ``gil`` keeps only samples of the thread holding the GIL: Python CPU time, without threads
    that merely wait for the GIL (they show up in a GIL-releasing call such as ``os.urandom``).
    """
    command = [
        py_spy_path(),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(duration))),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nolineno",
        "--output",
        str(output),
    ]
    # py-spy can only unwind C frames of a paused process.
    command.append("--native" if native else "--nonblocking")
    if gil:
        command.append("--gil")
    return subprocess.Popen(
        pinned(command, core), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )


def load_stacks(path: Path) -> Counter[tuple[str, ...]]:
    """Collapsed stacks and their sample counts."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def summarise(path: Path, *, top: int = 20) -> str:
    """Top frames by self and inclusive share of the samples, as plain text."""
    if not path.exists():
        return f"{path.name}: py-spy wrote nothing (see its message above)"
    stacks = load_stacks(path)
    idle = sum(n for stack, n in stacks.items() if stack[-1] in IDLE_LEAVES)
    stacks = Counter({stack: n for stack, n in stacks.items() if stack[-1] not in IDLE_LEAVES})
    total = sum(stacks.values())
    if total == 0:
        return f"{path.name}: no samples"
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        self_time[stack[-1]] += count
        for frame in set(stack):
            inclusive[frame] += count
    lines = [f"{path.name}: {total} busy samples ({idle} idle ones left out)", "  self time:"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in self_time.most_common(top)]
    lines.append("  inclusive time:")
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(summarise(Path(name)))
