"""templates/form_errors.html: a form's server-side error tied to the control it is about."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.server.pages.render import environment

PAGE = environment.from_string(
    '{% from "form_errors.html" import field, action_field with context %}'
    '<input name="a"{{ field("a") }}><select name="b"{{ field("b", "b-hint") }}></select>'
    '<textarea name="c"{{ action_field("/account/c", "c-hint") }}></textarea>'
)
MARKED = ' aria-invalid="true" aria-describedby="{ids}" autofocus'


@pytest.mark.parametrize(
    ("context", "a", "b", "c"),
    [
        ({}, "", ' aria-describedby="b-hint"', ' aria-describedby="c-hint"'),
        ({"error_field": None, "errors": {}}, "", ' aria-describedby="b-hint"',
         ' aria-describedby="c-hint"'),
        ({"error_field": "a"}, MARKED.format(ids="form-error"), ' aria-describedby="b-hint"',
         ' aria-describedby="c-hint"'),
        ({"error_field": "b"}, "", MARKED.format(ids="form-error b-hint"),
         ' aria-describedby="c-hint"'),
        ({"errors": {"/account/c": "Too long."}}, "", ' aria-describedby="b-hint"',
         MARKED.format(ids="error--account-c c-hint")),
        ({"errors": {"/account/other": "No."}}, "", ' aria-describedby="b-hint"',
         ' aria-describedby="c-hint"'),
    ],
)  # fmt: skip
def test_only_the_blamed_control_is_marked(context: dict[str, Any], a: str, b: str, c: str) -> None:
    assert PAGE.render(context) == (
        f'<input name="a"{a}><select name="b"{b}></select><textarea name="c"{c}></textarea>'
    )
