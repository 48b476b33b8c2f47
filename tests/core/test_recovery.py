"""Recovery codes: their form, what a user may type back, and their keyed hashes."""

from __future__ import annotations

import re

import pytest

from keyfob.core.recovery import (
    CODE_COUNT,
    CODE_KIND,
    LINK_KIND,
    new_recovery_codes,
    normalise_recovery_code,
    secret_hash,
)

WRITTEN = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")
KEY = b"k" * 32


def test_a_set_is_ten_distinct_codes_of_80_bits() -> None:
    codes = new_recovery_codes()
    assert len(codes) == CODE_COUNT == len(set(codes))
    assert all(WRITTEN.fullmatch(code) for code in codes)
    assert set(codes).isdisjoint(new_recovery_codes())


@pytest.mark.parametrize(
    "typed",
    ["ABCD-EFGH-2345-67XY", "abcd-efgh-2345-67xy", "ABCDEFGH234567XY", " abcd efgh\t2345 67xy "],
)
def test_case_spaces_and_hyphens_do_not_matter(typed: str) -> None:
    assert normalise_recovery_code(typed) == "ABCDEFGH234567XY"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCD-EFGH-2345-67X",  # 15 characters
        "ABCD-EFGH-2345-67XYZ",  # 17
        "ABCD-EFGH-2345-67X0",  # 0 is not base32
        "ABCD-EFGH-2345-67X1",
        "ABCD_EFGH_2345_67XY",
        "ABCD-EFGH-2345-67X\x00",
        "ÄBCD-EFGH-2345-67XY",
        "A" * 16 + " " * 60,
    ],
)
def test_anything_else_is_no_code(typed: str) -> None:
    assert normalise_recovery_code(typed) is None


def test_hashes_are_keyed_and_kept_apart_by_kind() -> None:
    code = "ABCDEFGH234567XY"
    hashed = secret_hash(KEY, CODE_KIND, code)
    assert re.fullmatch(r"[0-9a-f]{64}", hashed)
    assert hashed == secret_hash(KEY, CODE_KIND, code)
    assert hashed != secret_hash(b"j" * 32, CODE_KIND, code)
    assert hashed != secret_hash(KEY, LINK_KIND, code)
    assert code not in hashed
