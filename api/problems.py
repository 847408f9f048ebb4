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


def problem_body(exc: RegistryError) -> dict[str, Any]:
    """The RFC 9457 members of a refusal, as one result of a bulk request carries them."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.errors:
        body["errors"] = [{"pointer": pointer, "detail": detail} for pointer, detail in exc.errors]
    return body


async def registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    body = problem_body(exc)
    response = JSONResponse(
        {**body, "instance": request.url.path}, status_code=exc.status, media_type=MEDIA_TYPE
    )
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
