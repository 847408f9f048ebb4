"""The web portal for creators: server-rendered pages, in Japanese and English, over the same stores.

Why pages are rendered here and signing happens in the browser: the server must never hold a
creator's private key, so every document is canonicalised (RFC 8785) and signed by the page's own
JavaScript (`api/static/js/`) and filed through the public JSON API (`POST /v1/claims`,
`POST /v1/notices`, `POST /v1/notices/{id}/responses`), exactly as the CLI files it. The pages
themselves only read: they render what the stores hold, plus the facts the scripts need (the
vocabulary, the regimes' required elements from `registry.notices.REQUIREMENTS`, a claim's
inclusion proof) as JSON data blocks.

Authority: every claim a page shows says how much it is worth — its levels (自己申告 self-asserted,
代理人申告 agent-asserted, 委任あり mandated, 団体の証明あり attested, ドメイン確認済み domain-verified),
per identifier on the claim page and per match in lookups, with the chain behind them (who
verified, attested or mandated, how, when, at which log index) and the registry's notes on what
does not count. Every operator list (the takedown picker, the statistics) shows each operator's
domain and authority, verified operators first; an authority label always comes before the
operator's self-chosen name, so no name can dress itself up as a verified one. Times are rendered
in UTC inside `<time datetime=…>` and rewritten by `/static/js/times.js` into the reader's zone.

Security headers: every page carries a strict Content-Security-Policy (`default-src 'self'`, no
inline script, no other site), so even a rendering bug cannot run injected script. The one form
that posts to the portal itself (the language switch) is guarded by a double-submit CSRF token and
an Origin check; the JSON API needs no CSRF guard because it is not authenticated by cookies — a
signed document is its own authority.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from api.i18n import COOKIE, LANGS, negotiate, translator
from api.state import RegistryState
from keys import merkle
from registry.authority.levels import ClaimAuthority, UnknownLevel
from registry.documents import Claim
from registry.errors import RegistryError
from registry.models import LogEntry
from registry.notices.documents import REGIMES, REQUESTED_ACTIONS, REQUIREMENTS, STATEMENT_KEYS
from registry.notices.lifecycle import STATES
from registry.schemes import exact_keys
from registry.vocabulary import DESCRIPTIONS, USES

HERE = Path(__file__).parent
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
LOOKUP_SCHEMES = ("auto", "url", "name", "isni", "wikidata", "sha256", "claim")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_MAX_QUERY = 2048
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


templates.env.filters["human_time"] = human_time


def _state(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


def _csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (and must be set as a cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token):
        return token, False
    return secrets.token_urlsafe(32), True


def _lang(request: Request) -> str:
    return negotiate(request.cookies.get(COOKIE), request.headers.get("accept-language"))


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A page in the request's language, with the CSRF token and the security headers."""
    lang = _lang(request)
    token, new = _csrf_token(request)
    page = {
        "lang": lang,
        "t": translator(lang),
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


def _local_path(target: str | None) -> str:
    """Only redirect within this site: a path starting with one slash, no scheme, no host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# ------------------------------------------------------------------ pages


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def keys_page(request: Request) -> Response:
    return render(request, "keys.html")


async def reserve_page(request: Request) -> Response:
    uses = [{"use": use, "description": DESCRIPTIONS[use]} for use in USES]
    return render(request, "reserve.html", {"uses": uses})


def requirements_by_regime() -> dict[str, list[dict[str, str]]]:
    """Each regime's required elements, from `registry.notices.REQUIREMENTS` (the one source)."""
    return {
        regime: [{"pointer": pointer, "reason": reason} for pointer, reason, _ in REQUIREMENTS[regime]]
        for regime in REGIMES
    }


def operator_label(operator: Mapping[str, Any], t: Any) -> str:
    """How a picker names an operator: authority and domain first, in brackets, then its name, so a
    self-chosen name can never look like the registry's label (`[ドメイン確認済み · acme.example] Acme`)."""
    parts = [t(f"authority.{operator['authority']}")]
    verified = operator["authority"] == "domain-verified"
    parts.append(str(operator["domain"]) if verified else t("operator.unverified"))
    if operator.get("name_disputed"):
        parts.append(t("operator.disputed_short"))
    return f"[{' · '.join(parts)}] {operator.get('name') or operator['did']}"


def picker_data(operators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the takedown page's script needs to say, for a DID typed or picked, who it is."""
    keys = ("did", "name", "authority", "domain", "name_disputed", "name_held_by")
    return [{key: operator.get(key) for key in keys} for operator in operators]


async def takedown_page(request: Request) -> Response:
    state = _state(request)
    operators: list[dict[str, Any]] = []
    if state.notices is not None:
        operators = await state.notices.operators()
    t = translator(_lang(request))
    for operator in operators:
        operator["label"] = operator_label(operator, t)
    return render(
        request,
        "takedown.html",
        {
            "operators": operators,
            "operators_data": picker_data(operators),
            "regimes": REGIMES,
            "requirements": requirements_by_regime(),
            "actions": REQUESTED_ACTIONS,
            "statements": STATEMENT_KEYS,
        },
    )


async def notice_page(request: Request) -> Response:
    state = _state(request)
    notice_id = request.path_params["notice_id"]
    if state.notices is None or not _HEX64.fullmatch(notice_id):
        return error_page(request, 404, "error.not_found")
    try:
        notice = await state.notices.get_notice(notice_id.lower())
    except RegistryError as exc:
        return error_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.title")
    counter = [event for event in notice.get("events", []) if _event_action(event) == "counter-notice"]
    context = {"notice": notice, "counter": counter, "states": STATES, "registry_did": state.key.did}
    return render(request, "notice.html", context)


def _event_action(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    document = event.get("document")
    if isinstance(document, dict) and isinstance(document.get("action"), str):
        return str(document["action"])
    action = event.get("action")
    return action if isinstance(action, str) else None


def lookup_item(scheme: str, query: str) -> dict[str, str] | None:
    """The check item a search box means; `auto` guesses from the text's shape. None: a claim id."""
    text = query.strip()
    if scheme == "auto":
        if _HEX64.fullmatch(text):
            return None
        if re.match(r"(?i)https?://", text) or re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/.*)?", text):
            scheme = "url"
        elif re.fullmatch(r"[Qq][1-9][0-9]*", text):
            scheme = "wikidata"
        elif re.fullmatch(r"[0-9 ]{15,19}[0-9Xx]", text):
            scheme = "isni"
        else:
            scheme = "name"
    if scheme == "claim":
        return None
    return {"scheme": scheme, "value": text}


async def lookup_page(request: Request) -> Response:
    query = request.query_params.get("q", "")[:_MAX_QUERY]
    scheme = request.query_params.get("scheme", "auto")
    if scheme not in LOOKUP_SCHEMES:
        scheme = "auto"
    context: dict[str, Any] = {"q": query, "scheme": scheme, "schemes": LOOKUP_SCHEMES, "searched": False}
    if query.strip():
        context["searched"] = True
        item = lookup_item(scheme, query)
        if item is None:
            found = await _find_by_id(_state(request), query.strip().lower())
            if found is not None:
                return RedirectResponse(found, status_code=303)
            context["error"] = translator(_lang(request))("lookup.unknown_id")
        else:
            try:
                answer = await _state(request).claims.check({"purpose": "train-ai", "items": [item]})
                context["result"] = answer["items"][0]
                context["tree_size"] = answer["checkpoint"]["tree_size"]
                context["registry_did"] = _state(request).key.did
            except RegistryError as exc:
                context["error"] = exc.detail
                context["problems"] = [detail for _, detail in exc.errors]
    return render(request, "lookup.html", context)


async def _find_by_id(state: RegistryState, text: str) -> str | None:
    """The page of the claim, or else the notice, whose id is `text` (64 hex digits)."""
    if not _HEX64.fullmatch(text):
        return None
    try:
        await state.claims.get_claim(text)
        return f"/claims/{text}"
    except RegistryError:
        pass
    if state.notices is not None:
        try:
            await state.notices.get_notice(text)
            return f"/notices/{text}"
        except RegistryError:
            pass
    return None


async def claim_page(request: Request) -> Response:
    state = _state(request)
    claim_id = request.path_params["claim_id"]
    if not _HEX64.fullmatch(claim_id):
        return error_page(request, 404, "error.not_found")
    try:
        claim = await state.claims.get_claim(claim_id.lower())
    except RegistryError as exc:
        return error_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.title")
    links: dict[str, Any] = {}
    if state.notices is not None:
        try:
            links = await state.notices.claim_links(claim["id"])
        except RegistryError:
            links = {}
    return render(
        request,
        "claim.html",
        {
            "claim": claim,
            "links": links,
            "proof": await inclusion_data(state, int(claim["log_index"])),
            "identifier_authority": identifier_authority(claim, state.claims.clock()),
            "registry_did": state.key.did,
        },
    )


def identifier_authority(claim: Mapping[str, Any], at: datetime) -> list[dict[str, Any]]:
    """Each identifier of a stored claim with the authority levels a match on it holds at `at`
    (the same evaluation a check answer makes), from the claim's `authority` as the store gives it.
    Empty when the store gives no authority (a withdrawn claim) or the document does not parse."""
    authority_json = claim.get("authority")
    if not isinstance(authority_json, Mapping):
        return []
    try:
        authority = ClaimAuthority.from_json(authority_json)
        document = Claim.model_validate(claim["document"])
    except (UnknownLevel, KeyError, TypeError, ValueError):
        return []
    rows = []
    for identifier, raw in zip(
        document.subject.identifiers, claim["document"]["subject"]["identifiers"], strict=True
    ):
        scheme = identifier.scheme
        value = str(raw.get("value", raw.get("space", "")))
        keys = exact_keys(identifier, query=False)
        key = keys[0].partition(":")[2] if keys and scheme != "name" else value
        levels, chain = authority.evaluate(scheme, key, at=at)
        rows.append({"scheme": scheme, "value": value, "levels": levels, "chain": chain})
    return rows


async def inclusion_data(state: RegistryState, index: int) -> dict[str, Any]:
    """What the browser needs to check that leaf `index` is in the latest checkpoint's tree.

    The page recomputes the leaf hash itself from the document it shows (RFC 8785 in JavaScript),
    so a server that showed one document but logged another would fail the check. The server also
    checks the proof (`server_verified`), so the page says something useful without JavaScript.
    """
    size = await state.log.size()
    root = await state.log.root(size)
    proof = await state.log.inclusion_proof(index, size)
    entry = await LogEntry.get(index=index)
    server_verified = True
    try:
        merkle.verify_inclusion(bytes(entry.leaf_hash), index, size, proof, root)
    except merkle.InvalidMerkleProof:
        server_verified = False
    return {
        "leaf_index": index,
        "tree_size": size,
        "root": base64.b64encode(root).decode("ascii"),
        "inclusion_proof": [base64.b64encode(node).decode("ascii") for node in proof],
        "checkpoint": state.log.checkpoint_note(size, root),
        "note_verifier_key": state.log.verifier_key,
        "server_verified": server_verified,
    }


async def stats_page(request: Request) -> Response:
    state = _state(request)
    stats: dict[str, Any] = {"operators": []}
    if state.notices is not None:
        stats = await state.notices.stats()
    return render(request, "stats.html", {"stats": stats, "chart": bar_chart(stats["operators"])})


def bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry for an inline SVG bar chart (received vs. actioned per operator): rendered here so
    the chart needs no script, and laid out label-above-bars so it stays legible on a phone."""
    most = max([int(row.get("received", 0)) for row in rows] + [1])
    bar_height, row_height, width = 14, 56, 280
    bars = []
    for number, row in enumerate(rows):
        received, actioned = int(row.get("received", 0)), int(row.get("actioned", 0))
        bars.append(
            {
                "label": row.get("name") or str(row.get("operator", ""))[:32] + "…",
                "authority": row.get("authority", "self-asserted"),
                "domain": row.get("domain", "unverified"),
                "y": number * row_height,
                "received": received,
                "actioned": actioned,
                "received_width": round(width * received / most),
                "actioned_width": round(width * actioned / most),
            }
        )
    return {
        "bars": bars,
        "bar_height": bar_height,
        "width": width + 40,
        "height": max(1, len(rows)) * row_height,
    }


async def switch_language(request: Request) -> Response:
    """The language switch: a POST form (so it works without JavaScript), CSRF-guarded."""
    ok, fields = await csrf_ok(request)
    if not ok:
        return error_page(request, 403, "error.csrf")
    lang = fields.get("lang", "")
    response = RedirectResponse(_local_path(fields.get("next")), status_code=303)
    if lang in LANGS:
        response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


PORTAL_ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/keys", keys_page, methods=["GET"]),
    Route("/reserve", reserve_page, methods=["GET"]),
    Route("/takedown", takedown_page, methods=["GET"]),
    Route("/notices/{notice_id}", notice_page, methods=["GET"]),
    Route("/lookup", lookup_page, methods=["GET"]),
    Route("/claims/{claim_id}", claim_page, methods=["GET"]),
    Route("/stats", stats_page, methods=["GET"]),
    Route("/lang", switch_language, methods=["POST"]),
    Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
]
