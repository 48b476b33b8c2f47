"""Paths the tests share."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VECTORS = (ROOT / ".." / "shared" / "vectors").resolve()
