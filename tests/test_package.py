"""The published package: the wheel, installed bare in a fresh virtualenv, is the library.

The wheel is built from a copy of the project (pip's cache keeps the build dependencies), then
installed with only its base dependencies into a virtualenv that has nothing else. There,
``keyfob.core`` and ``keyfob.integrations`` import (every module, not only the packages) without
FastAPI, SQLAlchemy or any other server dependency; the passkey modules and the ``keyfob``
command say which extra they need in one line. Before the split, the base install pulled 49
packages (the whole server) and these checks fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import ROOT

# What the base install must not bring: the server's dependencies (keyfob[server], [postgres]).
SERVER_ONLY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "jinja2",
    "python-multipart",
    "typer",
    "pydantic",
    "pydantic-settings",
    "webauthn",
)
# What imports without an extra: every module of the library but these.
NEEDS_AN_EXTRA = {
    "keyfob.core.passkeys": "keyfob[passkeys]",
    "keyfob.core.passkey_parsing": "keyfob[passkeys]",
    "keyfob.integrations.fastapi": None,  # the app's own FastAPI
}
# 49 before the split (48 and pip); 10 now: keyfob, PyJWT, cryptography (+ cffi, pycparser),
# coincurve, pycryptodome and anyio (+ idna, typing_extensions on Python < 3.13).
MAX_PACKAGES = 12

LIBRARY_CHECK = """
import importlib, json, pkgutil, sys
import keyfob.core, keyfob.integrations
skip = set(sys.argv[1].split(","))
imported = []
for package in (keyfob.core, keyfob.integrations):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name not in skip:
            importlib.import_module(info.name)
            imported.append(info.name)
try:
    import keyfob.core.passkeys
except ModuleNotFoundError as error:
    passkeys = str(error)
else:
    passkeys = "imported"
print(json.dumps({"imported": imported, "passkeys": passkeys}))
"""


@dataclass(frozen=True)
class BareInstall:
    """A virtualenv holding the keyfob wheel and its base dependencies, nothing else."""

    python: Path
    packages: dict[str, str]  # normalised distribution name -> version

    def run(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run a command of the virtualenv (its ``bin/`` first) and capture its output."""
        return subprocess.run(
            [str(self.python.with_name(args[0])), *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.python.parents[2],  # not the project: nothing importable by accident
        )


def _pip(*args: str) -> str:
    """Run this interpreter's pip (pip's cache is shared); return its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> BareInstall:
    """Build the wheel from a copy of the project and install it bare in a fresh virtualenv."""
    work = tmp_path_factory.mktemp("package")
    project = work / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(work / "dist"), str(project))
    (wheel,) = (work / "dist").glob("keyfob-*.whl")

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", "--quiet", str(wheel))
    listed = json.loads(_pip("--python", str(python), "list", "--format=json"))
    packages = {entry["name"].lower().replace("_", "-"): entry["version"] for entry in listed}
    return BareInstall(python=python, packages=packages)


def test_the_base_install_is_the_library_only(bare: BareInstall) -> None:
    assert "keyfob" in bare.packages
    assert [name for name in SERVER_ONLY if name in bare.packages] == []
    assert len(bare.packages) <= MAX_PACKAGES, sorted(bare.packages)


def test_every_library_module_imports_without_the_server(bare: BareInstall) -> None:
    result = bare.run(["python", "-c", LIBRARY_CHECK, ",".join(NEEDS_AN_EXTRA)])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"keyfob.core.tokens", "keyfob.core.eip4361", "keyfob.integrations.verifier"} <= set(
        report["imported"]
    )
    assert "pip install 'keyfob[passkeys]'" in report["passkeys"]


def test_the_command_without_the_server_says_so_in_one_line(bare: BareInstall) -> None:
    result = bare.run(["keyfob", "serve"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install 'keyfob[server]'" in result.stderr


def test_the_wheel_carries_the_license_and_metadata(bare: BareInstall) -> None:
    result = bare.run(["python", "-c", METADATA_CHECK])
    assert result.returncode == 0, result.stderr
    metadata = json.loads(result.stdout)
    assert metadata["license"] == "MIT"
    assert "Copyright (c) the keyfob authors" in metadata["license_text"]
    assert "Programming Language :: Python :: 3.11" in metadata["classifiers"]
    assert set(metadata["extras"]) >= {"server", "postgres", "passkeys"}
    assert not {"test", "bench"} & set(metadata["extras"])  # dependency groups, not extras


METADATA_CHECK = """
import json
from importlib.metadata import distribution
dist = distribution("keyfob")
(license_file,) = [f for f in dist.files if f.name == "LICENSE"]
print(json.dumps({
    "license": dist.metadata["License-Expression"],
    "license_text": license_file.read_text(),
    "classifiers": dist.metadata.get_all("Classifier"),
    "extras": dist.metadata.get_all("Provides-Extra"),
}))
"""
