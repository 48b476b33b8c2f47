"""keyfob.errors.blame: which input an InvalidRequest is about."""

from __future__ import annotations

import pytest

from keyfob.errors import Forbidden, InvalidRequest, StateRequired, blame


def test_blame_names_the_field_of_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as raised, blame("name"):
        raise InvalidRequest("A client's name is 1 to 255 characters.")
    assert raised.value.field == "name"
    assert raised.value.code == "invalid_request"  # the error is otherwise unchanged


def test_the_nearest_blame_wins() -> None:
    with pytest.raises(InvalidRequest) as raised, blame("form"), blame("jwks"):
        raise InvalidRequest()
    assert raised.value.field == "jwks"


def test_a_subclass_is_blamed_too() -> None:
    with pytest.raises(StateRequired) as raised, blame("state"):
        raise StateRequired()
    assert raised.value.field == "state"


def test_other_errors_pass_unblamed() -> None:
    with pytest.raises(Forbidden) as raised, blame("name"):
        raise Forbidden()
    assert not hasattr(raised.value, "field")


def test_without_blame_no_field_is_named() -> None:
    assert InvalidRequest().field is None
    with blame("name"):
        pass
