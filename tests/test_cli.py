"""The ``keyfob`` console script (``keyfob.cli:main``): the server's CLI when the server extra is
installed, one line naming the extra when it is not, and a traceback for keyfob's own bugs.

tests/test_package.py runs the real script in a virtualenv without the extra; here the missing
package is simulated the way Python spells "not installed" (``None`` in ``sys.modules``).
"""

from __future__ import annotations

import sys

import pytest

from keyfob import cli


def test_runs_the_server_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["keyfob", "--help"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    assert "serve" in capsys.readouterr().out


def test_without_the_server_extra_says_which_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "keyfob.server.infra.cli", raising=False)
    monkeypatch.setitem(sys.modules, "typer", None)  # as if typer were not installed
    monkeypatch.setattr(sys, "argv", ["keyfob", "serve"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    message = exited.value.code
    assert isinstance(message, str)  # printed to stderr, exit status 1
    assert message == (
        "keyfob: the keyfob command needs the server extra (typer is not installed):"
        " pip install 'keyfob[server]'"
    )
    assert exited.value.__cause__ is None
    assert exited.value.__suppress_context__


def test_a_missing_keyfob_module_is_a_bug_and_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "keyfob.server.infra.cli", raising=False)
    monkeypatch.setitem(sys.modules, "keyfob.server.infra.keyring", None)
    with pytest.raises(ModuleNotFoundError) as raised:
        cli.main()
    assert raised.value.name == "keyfob.server.infra.keyring"
