"""RFC 9457 problem details: every error the API answers, with a stable `type` URI per kind."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from registry.errors import RegistryError

PROBLEM_BASE = "https://kotowari.dev/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("kotowari.api")

_HTTP_SLUGS = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed")}


def problem(
    status: int, slug: str, title: str, detail: str, *, instance: str | None = None, **extensions: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


async def registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    extensions: dict[str, Any] = {}
    if exc.errors:
        extensions["errors"] = [{"pointer": pointer, "detail": detail} for pointer, detail in exc.errors]
    response = problem(exc.status, exc.slug, exc.title, exc.detail, instance=request.url.path, **extensions)
    response.headers.update(getattr(exc, "response_headers", {}))
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    response = problem(exc.status_code, slug, title, str(exc.detail), instance=request.url.path)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it with its traceback, answer without one."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500, "internal-error", "Internal error", "the registry failed; this is a bug and was logged"
    )


HANDLERS: dict[Any, Any] = {
    RegistryError: registry_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
