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

Words: every string comes from `api.copy` through `api.i18n`, in the glossary's terms
(`api.glossary`); what the scripts say (field errors, confirmations, key messages) is sent with the
page as a JSON data block, so a message checked in the browser before signing and one the registry
answered read the same.

Modules: `rendering` (templates, language, CSRF, headers), `pages` (home, keys, reserve, takedown,
notices, statistics, the language switch), `lookup` (search, the claim page, inclusion proofs).

Security headers: every page carries a strict Content-Security-Policy (`default-src 'self'`, no
inline script, no other site), so even a rendering bug cannot run injected script. The one form
that posts to the portal itself (the language switch) is guarded by a double-submit CSRF token and
an Origin check; the JSON API needs no CSRF guard because it is not authenticated by cookies — a
signed document is its own authority.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.portal.lookup import LOOKUP_SCHEMES, claim_page, detect_scheme, lookup_item, lookup_page
from api.portal.pages import (
    bar_chart,
    home,
    keys_page,
    notice_page,
    operator_label,
    requirements_by_regime,
    reserve_page,
    stats_page,
    switch_language,
    takedown_page,
)
from api.portal.rendering import (
    CONTENT_SECURITY_POLICY,
    CSRF_COOKIE,
    CSRF_FIELD,
    HERE,
    SECURITY_HEADERS,
    human_duration,
    human_time,
    render,
)

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "LOOKUP_SCHEMES",
    "PORTAL_ROUTES",
    "SECURITY_HEADERS",
    "bar_chart",
    "detect_scheme",
    "human_duration",
    "human_time",
    "lookup_item",
    "operator_label",
    "render",
    "requirements_by_regime",
]

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
