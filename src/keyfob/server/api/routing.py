"""The two kinds of entries in the JSON API's route table, and FastAPI routes built from them.

A :class:`Route` is an endpoint FastAPI calls as it is (its dependencies, path and query
parameters declared on the function). A :class:`JsonRoute` is a ``POST`` whose handler turns
the body model into the response model, ``(runtime, body)`` or, with ``with_caller``,
``(runtime, body, caller)`` (a :class:`~keyfob.server.infra.client_address.Caller`), and needs
nothing else: the fast path serves it
(:mod:`keyfob.server.api.fastpath`), and :func:`json_endpoint` makes the FastAPI endpoint that
documents it in OpenAPI and serves it without the fast path.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from keyfob.server.api.schemas import json_response
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.services.audit import caller_of

Handler = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True)
class Route:
    """An endpoint as FastAPI takes it. ``response_model`` None leaves it to FastAPI (inferred
    from the return annotation); ``status_code`` and ``response_class`` None keep its defaults."""

    method: str
    path: str
    endpoint: Callable[..., Awaitable[Any]]
    tags: tuple[str, ...]
    response_model: Any = None
    status_code: int | None = None
    response_class: type[Response] | None = None


@dataclass(frozen=True)
class JsonRoute:
    """``POST path``: ``handler`` turns a ``model`` body into a ``response_model`` body. In
    OpenAPI the endpoint is named ``name`` (its operation id and summary) and described by
    ``description``; ``with_caller`` handlers also get the client's address and User-Agent (for
    the audit log and the account page's list of sessions)."""

    path: str
    model: type[BaseModel]
    handler: Handler
    response_model: Any
    tags: tuple[str, ...]
    name: str
    description: str
    with_caller: bool = False


def json_endpoint(route: JsonRoute) -> Callable[..., Awaitable[Response]]:
    """The FastAPI endpoint of ``route``: the body validated against ``route.model`` (the
    signature is built so that FastAPI sees the model), the handler's answer serialised once."""
    handler, with_caller = route.handler, route.with_caller

    async def endpoint(body: BaseModel, request: Request, runtime: Any) -> Response:
        if with_caller:
            return json_response(await handler(runtime, body, caller_of(request)))
        return json_response(await handler(runtime, body))

    endpoint.__name__ = endpoint.__qualname__ = route.name
    endpoint.__doc__ = route.description
    parameter = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", parameter, annotation=route.model),
            inspect.Parameter("request", parameter, annotation=Request),
            inspect.Parameter("runtime", parameter, annotation=RuntimeDep),
        ],
        return_annotation=Response,
    )
    return endpoint


def build_router(routes: Iterable[Route | JsonRoute]) -> APIRouter:
    """A FastAPI router with every one of ``routes``, in order."""
    router = APIRouter()
    for route in routes:
        if isinstance(route, JsonRoute):
            router.add_api_route(
                route.path,
                json_endpoint(route),
                methods=["POST"],
                name=route.name,
                description=route.description,
                response_model=route.response_model,
                tags=list(route.tags),
            )
            continue
        options: dict[str, Any] = {"methods": [route.method], "tags": list(route.tags)}
        if route.response_model is not None:
            options["response_model"] = route.response_model
        if route.status_code is not None:
            options["status_code"] = route.status_code
        if route.response_class is not None:
            options["response_class"] = route.response_class
        router.add_api_route(route.path, route.endpoint, **options)
    return router


def fast_routes(routes: Iterable[Route | JsonRoute]) -> dict[str, JsonRoute]:
    """The fast path's dispatch table: every :class:`JsonRoute` of ``routes``, by path."""
    return {route.path: route for route in routes if isinstance(route, JsonRoute)}
