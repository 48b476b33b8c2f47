"""The import contract (``[tool.importlinter]`` in pyproject.toml), run with import-linter.

The real tree keeps it; a copy of the tree with one forbidden import added (directly, through
another module, or only for type checking) breaks it, so the check can fail; and the contract's
list of forbidden modules names every top-level module of keyfob, so a new one cannot slip by.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = ROOT / "pyproject.toml"
CORE = "keyfob.core is pure: it imports nothing of keyfob but keyfob.core and keyfob.errors"
INTEGRATIONS = "keyfob.integrations never imports the server or the store"
SERVER = "keyfob.server is layered: the surfaces over services over infra"
SURFACES = "keyfob.server's surfaces are independent of each other"


def lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` with the project's contracts over the package tree under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(CONFIG)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def contracts() -> dict[str, dict[str, Any]]:
    """The contracts in pyproject.toml, by name."""
    config = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]
    return {contract["name"]: contract for contract in config["contracts"]}


def test_the_tree_keeps_the_contract(tmp_path: Path) -> None:
    result = lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


def test_the_forbidden_lists_name_every_top_level_module() -> None:
    package = ROOT / "src" / "keyfob"
    top_level = {
        f"keyfob.{path.stem}"
        for path in package.iterdir()
        # __main__ (``python -m keyfob``) is no module to import; import-linter skips it.
        if (path.suffix == ".py" and path.name not in ("__init__.py", "__main__.py"))
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    by_name = contracts()
    assert by_name[CORE]["source_modules"] == ["keyfob.core"]
    assert set(by_name[CORE]["forbidden_modules"]) == top_level - {"keyfob.core", "keyfob.errors"}
    assert by_name[INTEGRATIONS]["source_modules"] == ["keyfob.integrations"]
    assert {"keyfob.server", "keyfob.store"} <= set(by_name[INTEGRATIONS]["forbidden_modules"])


@pytest.mark.parametrize(
    ("module", "added", "broken"),
    [
        pytest.param("core/secretbox.py", "import keyfob.store", [CORE], id="core-store"),
        pytest.param(
            "core/nonces.py", "import keyfob.server.infra.settings", [CORE], id="core-server"
        ),
        pytest.param(
            "core/tokens.py", "from keyfob.integrations import verifier", [CORE], id="core-integ"
        ),
        pytest.param("core/eip55.py", "from keyfob import cli", [CORE], id="core-cli"),
        pytest.param(
            "integrations/asgi.py",
            "from keyfob.server.infra.runtime import Runtime",
            [INTEGRATIONS],
            id="integrations-server",
        ),
        pytest.param(
            "integrations/verifier.py",
            "if TYPE_CHECKING:\n    from keyfob.store import Store",
            [INTEGRATIONS],
            id="integrations-store-for-typing",
        ),
        # integrations may use the core, so a core module that reaches the store breaks both.
        pytest.param(
            "core/encoding.py",
            "import keyfob.store.engine",
            [CORE, INTEGRATIONS],
            id="integrations-store-through-core",
        ),
        pytest.param(
            "server/api/login.py",
            "from keyfob.server.pages import render",
            [SURFACES],
            id="api-pages",
        ),
        pytest.param(
            "server/pages/hosted.py",
            "from keyfob.server.api import schemas",
            [SURFACES],
            id="pages-api",
        ),
        # The admin panel may use the pages' renderer and error page, nothing else of them.
        pytest.param(
            "server/admin/users.py",
            "from keyfob.server.pages import hosted",
            [SURFACES],
            id="admin-pages-beyond-the-renderer",
        ),
        # The OpenID Provider's pages may use the pages' renderer too, nothing else of them; the
        # hosted pages reach the provider's logout only through services.sso.
        pytest.param(
            "server/oidc/logout.py",
            "from keyfob.server.pages import hosted",
            [SURFACES],
            id="oidc-pages-beyond-the-renderer",
        ),
        pytest.param(
            "server/pages/hosted.py",
            "from keyfob.server.oidc import logout",
            [SURFACES],
            id="pages-oidc",
        ),
        # The surfaces share the services, so a service that reaches a surface breaks both.
        pytest.param(
            "server/services/audit.py",
            "from keyfob.server.api import errors",
            [SERVER, SURFACES],
            id="services-surface",
        ),
        pytest.param(
            "server/infra/headers.py",
            "from keyfob.server.pages import errors",
            [SERVER],
            id="infra-surface",
        ),
        pytest.param(
            "server/infra/keyring.py",
            "if TYPE_CHECKING:\n    from keyfob.server.services import tokens",
            [SERVER],
            id="infra-services-for-typing",
        ),
        # infra.cli may call the use cases, not a surface.
        pytest.param(
            "server/infra/cli.py", "from keyfob.server.api import routes", [SERVER], id="cli-api"
        ),
        pytest.param(
            "server/infra/cli.py", "from keyfob.server.oidc import logout", [SERVER], id="cli-oidc"
        ),
        # A module directly in keyfob.server, outside the packages.
        pytest.param(
            "server/flat.py", '"""A module beside the packages."""', [SERVER], id="server-flat"
        ),
    ],
)
def test_a_forbidden_import_breaks_the_contract(
    tmp_path: Path, module: str, added: str, broken: list[str]
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "keyfob", src / "keyfob", ignore=shutil.ignore_patterns("__pycache__")
    )
    path = src / "keyfob" / module
    text = path.read_text() if path.exists() else ""
    if "TYPE_CHECKING" in added and "TYPE_CHECKING" not in text:
        added = "from typing import TYPE_CHECKING\n" + added
    path.write_text(f"{text}\n{added}\n")

    result = lint_imports(src, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    report = " ".join(result.stdout.split())  # import-linter wraps long names
    for name in broken:
        assert f"{name} BROKEN" in report
    total = len(contracts())
    assert f"Contracts: {total - len(broken)} kept, {len(broken)} broken." in report
