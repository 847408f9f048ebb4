"""Rendering a portal page: the language, the templates and their filters, the CSRF token and the
security headers every page carries."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from api.i18n import COOKIE, client_strings, negotiate, translate, translator
from api.state import RegistryState

HERE = Path(__file__).parents[1]
CSRF_COOKIE = "kotowari_csrf"
CSRF_FIELD = "csrf_token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_MAX_FORM = 8192

templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
)


def human_time(value: object) -> str:
    """An RFC 3339 time as people read it, in UTC (`2026-11-22 04:38 UTC`); the page's script then
    shows it in the reader's own zone. Anything unparsable is shown as it is."""
    text = str(value or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_duration(seconds: object, lang: str) -> str:
    """A duration as people say it: under a minute, minutes, hours (one decimal under ten), days.
    None (no data yet) is a dash; never "0.0 hours".

    >>> human_duration(20, "ja"), human_duration(600, "en"), human_duration(5400, "ja")
    ('1 分未満', '10 min', '1.5 時間')
    >>> human_duration(3 * 86400, "en"), human_duration(None, "ja")
    ('3 days', '—')
    """
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds != seconds:
        return translate(lang, "duration.none")
    if seconds < 60:
        return translate(lang, "duration.under_minute")
    if seconds < 3600:
        return translate(lang, "duration.minutes", n=round(seconds / 60))
    hours = seconds / 3600
    if hours < 48:
        shown = f"{hours:.1f}".removesuffix(".0") if hours < 10 else str(round(hours))
        return translate(lang, "duration.hours", n=shown)
    return translate(lang, "duration.days", n=round(hours / 24))


templates.env.filters["human_time"] = human_time


def registry_state(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


def _csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (and must be set as a cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token):
        return token, False
    return secrets.token_urlsafe(32), True


def page_lang(request: Request) -> str:
    return negotiate(request.cookies.get(COOKIE), request.headers.get("accept-language"))


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A page in the request's language, with the CSRF token, the strings its scripts say, and the
    security headers."""
    lang = page_lang(request)
    token, new = _csrf_token(request)
    page = {
        "lang": lang,
        "t": translator(lang),
        "duration": lambda seconds: human_duration(seconds, lang),
        "client_strings": client_strings(lang),
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, page, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-store"  # the page carries this browser's CSRF token
    if new:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def error_page(request: Request, status: int, message_key: str, detail: str | None = None) -> Response:
    return render(request, "error.html", {"message_key": message_key, "detail": detail}, status_code=status)


def same_origin(request: Request) -> bool:
    """A state-changing form must come from our own pages: Origin (or Referer) names this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # old browsers and privacy settings omit both; the token still guards
    parts = urlsplit(source)
    return parts.netloc == request.headers.get("host", "") and parts.scheme in ("http", "https")


async def csrf_ok(request: Request) -> tuple[bool, dict[str, str]]:
    """Double submit: the form's token must equal the cookie's, and the request be same-origin."""
    fields = await _urlencoded_form(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    submitted = fields.get(CSRF_FIELD, "")
    ok = bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode()) and same_origin(request)
    return ok, fields


async def _urlencoded_form(request: Request) -> dict[str, str]:
    """The portal's own small forms, parsed without python-multipart (not a dependency): only
    `application/x-www-form-urlencoded`, at most 8 KiB; anything else is an empty form."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(pairs)


def local_path(target: str | None) -> str:
    """Only redirect within this site: a path starting with one slash, no scheme, no host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
