"""Paths the tests share."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Every vector the suite reads lives in the repository (see tests/vectors/README.md for where
# each file came from), so a fresh clone runs the suite with nothing beside it.
VECTORS = ROOT / "tests" / "vectors"
