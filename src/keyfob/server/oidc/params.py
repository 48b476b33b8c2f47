"""Reading OAuth parameters: the query of a GET, the form body of a POST, repeats kept.

RFC 6749 §3.1 forbids sending a parameter twice, so parameters are read as a list of pairs
(the core's validators refuse repeats); only ``application/x-www-form-urlencoded`` bodies are
parameters (§3.2, OIDC Core §3.1.2.1).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from keyfob.errors import InvalidRequest

MAX_PARAMETERS = 64
MAX_FORM_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"

Params = list[tuple[str, str]]


def _parse(text: str) -> Params:
    try:
        return parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_PARAMETERS
        )
    except ValueError:
        raise InvalidRequest("The request has too many parameters.") from None


def query_params(request: Request) -> Params:
    """The parameters of the request's query string."""
    return _parse(request.url.query)


async def form_params(request: Request) -> Params:
    """The parameters of a form-encoded POST body; :class:`InvalidRequest` for another type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise InvalidRequest(f"Send the parameters as {FORM_TYPE}.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequest("The request body is too large.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not UTF-8.") from None
    return _parse(text)


async def request_params(request: Request) -> Params:
    """The parameters of a GET (query) or POST (form body) request."""
    if request.method == "POST":
        return await form_params(request)
    return query_params(request)


def single(params: Params, name: str) -> str | None:
    """The one value of ``name``, or None; :class:`InvalidRequest` if it was sent twice."""
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise InvalidRequest(f"The parameter {name} was sent more than once.")
    return values[0] if values else None
