"""RFC 9457 problem details: every error the API answers, with a stable `type` URI per kind.

`title`, `detail` and each field reason are English unless the request's Accept-Language prefers
Japanese (`registry.problem_text.negotiate`); then they are said in Japanese from the registry's
catalog, and `Content-Language` says which (RFC 9457 section 3.1 allows localised title and detail).
`type`, `status`, `instance`, pointers and extensions never change with the language, and with no
Accept-Language (or an English one) the body is byte-identical to what it always was. Every problem
answer carries `Vary: Accept-Language`, so a cache keeps the languages apart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from registry.errors import RegistryError
from registry.problem_text import localise_problem, negotiate

PROBLEM_BASE = "https://kotowari.dev/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("kotowari.api")

_HTTP_SLUGS = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed")}


def language_of(headers: Mapping[str, str] | None) -> str:
    """The language problems are said in for a request with these headers: `en` or `ja`."""
    return negotiate(headers.get("accept-language") if headers is not None else None)


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    language: str = "en",
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return _response(body, status, language)


def _response(body: dict[str, Any], status: int, language: str) -> JSONResponse:
    response = JSONResponse(localise_problem(body, language), status_code=status, media_type=MEDIA_TYPE)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return response


def problem_body(exc: RegistryError, language: str = "en") -> dict[str, Any]:
    """The RFC 9457 members of a refusal, as one result of a bulk request carries them."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.errors:
        body["errors"] = [{"pointer": pointer, "detail": detail} for pointer, detail in exc.errors]
    return localise_problem(body, language)


async def registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    body = {**problem_body(exc), "instance": request.url.path}
    response = _response(body, exc.status, language_of(request.headers))
    response.headers.update(getattr(exc, "response_headers", {}))
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    language = language_of(request.headers)
    response = problem(
        exc.status_code, slug, title, str(exc.detail), instance=request.url.path, language=language
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it with its traceback, answer without one."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "internal-error",
        "Internal error",
        "the registry failed; this is a bug and was logged",
        language=language_of(request.headers),
    )


HANDLERS: dict[Any, Any] = {
    RegistryError: registry_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
