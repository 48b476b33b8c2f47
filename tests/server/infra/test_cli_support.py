"""What the commands share: one line per invalid setting, naming it and why."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from keyfob.server.infra.cli_support import setting_problems
from keyfob.server.infra.settings import Settings


@pytest.mark.parametrize(
    ("env", "lines"),
    [
        (
            {"KEYFOB_NONCE_MODE": "sometimes"},
            ["KEYFOB_NONCE_MODE: Input should be 'stored' or 'signed' (got 'sometimes')"],
        ),
        (
            {"KEYFOB_NONCE_TTL": "5", "KEYFOB_RATE_LIMIT": "-1"},
            [
                "KEYFOB_NONCE_TTL: Input should be greater than or equal to 30 (got '5')",
                "KEYFOB_RATE_LIMIT: Input should be greater than or equal to 0 (got '-1')",
            ],
        ),
        (
            {"KEYFOB_ETHEREUM_CHAIN_IDS": "1,mainnet"},
            ["KEYFOB_ETHEREUM_CHAIN_IDS: '1,mainnet' is not a list of chain ids such as 1,137"],
        ),
        (
            {"KEYFOB_PUBLIC_URL": "auth.example.com"},
            [
                "KEYFOB_PUBLIC_URL must be an http(s) URL such as https://auth.example.com"
                " (got 'auth.example.com')"
            ],
        ),
        (
            {"KEYFOB_CORS_ORIGINS": "*"},
            [
                "KEYFOB_CORS_ORIGINS: '*' is refused: list the origins of your browser apps "
                "(keyfob never opens its API to every site)"
            ],
        ),
        (
            {"KEYFOB_TOKEN_AUDIENCE": "http://localhost:8000/account"},
            [
                "KEYFOB_TOKEN_AUDIENCE must not be 'http://localhost:8000/account': that "
                "audience is keyfob's own account API, which apps' tokens must never reach"
            ],
        ),
    ],
)
def test_each_invalid_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lines: list[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert setting_problems(raised.value) == lines
