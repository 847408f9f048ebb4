"""The portal's pages other than lookups: home, keys, reserve, takedown, a notice, statistics, and the
language switch."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.i18n import COOKIE, LANGS, translator
from api.portal.rendering import csrf_ok, error_page, local_path, page_lang, registry_state, render
from registry.errors import RegistryError
from registry.notices.documents import REGIMES, REQUESTED_ACTIONS, REQUIREMENTS, STATEMENT_KEYS
from registry.notices.lifecycle import STATES
from registry.vocabulary import DESCRIPTIONS, USES

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_RESPONDABLE = ("counter-noticed", "actioned", "rejected", "restored", "upheld")


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def keys_page(request: Request) -> Response:
    return render(request, "keys.html")


async def reserve_page(request: Request) -> Response:
    uses = [{"use": use, "description": DESCRIPTIONS[use]} for use in USES]
    return render(request, "reserve.html", {"uses": uses})


def requirements_by_regime() -> dict[str, list[dict[str, str]]]:
    """Each regime's required elements, from `registry.notices.REQUIREMENTS` (the one source); the
    page says each in its language from the catalog's `req.{regime}.{pointer}` entry."""
    return {
        regime: [{"pointer": pointer, "reason": reason} for pointer, reason, _ in REQUIREMENTS[regime]]
        for regime in REGIMES
    }


def operator_label(operator: Mapping[str, Any], t: Any) -> str:
    """How a picker names an operator: authority and domain first, in brackets, then its name, so a
    self-chosen name can never look like the registry's label (`[ドメイン確認済み · acme.example] Acme`);
    people still pick by the name, which the option's text ends with."""
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
    state = registry_state(request)
    operators: list[dict[str, Any]] = []
    if state.notices is not None:
        operators = await state.notices.operators()
    t = translator(page_lang(request))
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
            # the e-mail field only where the registry can send e-mail (registry.notices.notify)
            "email_notifications": state.settings.smtp is not None,
        },
    )


async def notice_page(request: Request) -> Response:
    state = registry_state(request)
    notice_id = request.path_params["notice_id"]
    if state.notices is None or not _HEX64.fullmatch(notice_id):
        return error_page(request, 404, "error.not_found")
    try:
        notice = await state.notices.get_notice(notice_id.lower())
    except RegistryError as exc:
        return error_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.title")
    context = {
        "notice": notice,
        "events": [public_event(event) for event in notice.get("events", [])],
        "states": STATES,
        "registry_did": state.key.did,
        "respondable": notice["state"] in _RESPONDABLE,
    }
    return render(request, "notice.html", context)


def public_event(event: Any) -> dict[str, Any]:
    """One history line: the step (said from the catalog's `event.{action}`), who signed it, when,
    and the public statement or actions taken it carries. Personal fields never reach the page:
    they are not in the logged document."""
    if not isinstance(event, Mapping):
        return {"action": "unknown", "party": "registry", "received_at": "", "statement": None}
    document = event.get("document") if isinstance(event.get("document"), Mapping) else {}
    assert isinstance(document, Mapping)
    action = event.get("action") if isinstance(event.get("action"), str) else document.get("action")
    taken = document.get("actions_taken")
    return {
        "action": str(action or "unknown"),
        "party": str(event.get("party") or "registry"),
        "received_at": str(event.get("received_at") or ""),
        "statement": document.get("statement") if isinstance(document.get("statement"), str) else None,
        "actions_taken": [str(a) for a in taken] if isinstance(taken, list) else [],
        "log_index": event.get("log_index"),
    }


async def stats_page(request: Request) -> Response:
    state = registry_state(request)
    stats: dict[str, Any] = {"operators": []}
    if state.notices is not None:
        stats = await state.notices.stats()
    return render(request, "stats.html", {"stats": stats, "chart": bar_chart(stats["operators"])})


def bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry for an inline SVG bar chart (received vs. actioned per operator): rendered here so
    the chart needs no script, and laid out label-above-bars so it stays legible on a phone. A zero
    is drawn as a short outlined stub, so "none" is visibly a bar of nothing, not a missing bar."""
    most = max([int(row.get("received", 0)) for row in rows] + [1])
    bar_height, row_height, width = 14, 56, 280
    bars = []
    for number, row in enumerate(rows):
        received, actioned = int(row.get("received", 0)), int(row.get("actioned", 0))
        received_width = round(width * received / most)
        actioned_width = round(width * actioned / most)
        bars.append(
            {
                "label": row.get("name") or str(row.get("operator", ""))[:32] + "…",
                "authority": row.get("authority", "self-asserted"),
                "domain": row.get("domain", "unverified"),
                "y": number * row_height,
                "received": received,
                "actioned": actioned,
                "received_width": max(received_width, 3),
                "actioned_width": max(actioned_width, 3),
                "received_zero": received == 0,
                "actioned_zero": actioned == 0,
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
    response = RedirectResponse(local_path(fields.get("next")), status_code=303)
    if lang in LANGS:
        response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
