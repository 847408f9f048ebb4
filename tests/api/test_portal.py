"""The portal's pages in process: status codes, language negotiation, the CSRF guard, escaping, the
security headers, and the facts the pages take from the registry (vocabulary, regime requirements).
The browser side (signing, filing, the proof check) is in tests/portal/."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

import api as api_package
import keys
from api.i18n import CATALOG, negotiate, parse_accept_language, translate
from api.portal import CONTENT_SECURITY_POLICY, CSRF_COOKIE, human_time, lookup_item
from registry.documents import new_claim
from registry.models import LogEntry
from registry.notices.documents import REGIMES, REQUIREMENTS
from tests.authority_helpers import verify_domain
from tests.conftest import Clock
from tests.notice_factories import complete_notice, registration

PAGES = ["/", "/keys", "/reserve", "/takedown", "/lookup", "/stats"]


async def file_claim(api: httpx.AsyncClient, key: keys.SigningKey, clock: Clock, **fields: Any) -> str:
    document = new_claim(
        key.did,
        fields.pop("kind", "work"),
        fields.pop("identifiers", [("url", "https://example.com/gallery/")]),
        fields.pop("uses", {"train-ai": "n"}),
        created=clock(),
        **fields,
    )
    response = await api.post(
        "/v1/claims", content=json.dumps(keys.sign_document(document, key, created=clock()))
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_renders_with_a_strict_content_security_policy(api: httpx.AsyncClient, path: str):
    response = await api.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    # No resource from another site, and no inline script (data blocks are not scripts).
    assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text)
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert 'type="application/json"' in tag or ('type="module"' in tag and 'src="/static/' in tag), tag
    assert '<meta name="viewport"' in response.text


def test_page_scripts_never_build_markup_from_strings():
    """User data reaches the DOM only through textContent and attributes: no HTML sinks, no eval."""
    scripts = sorted((Path(api_package.__file__).parent / "static" / "js").glob("*.js"))
    assert len(scripts) >= 8
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert sink not in source, (script.name, sink)
        assert "http://" not in source and "https://" not in source, script.name


async def test_language_follows_cookie_then_accept_language_then_japanese(api: httpx.AsyncClient):
    japanese = await api.get("/")
    assert '<html lang="ja">' in japanese.text and japanese.headers["content-language"] == "ja"
    english = await api.get("/", headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.8"})
    assert '<html lang="en">' in english.text and "Start here" in english.text
    ranked = await api.get("/", headers={"Accept-Language": "fr, ja;q=0.9, en;q=0.8"})
    assert '<html lang="ja">' in ranked.text
    chosen = await api.get("/", headers={"Accept-Language": "en", "Cookie": "lang=ja"})
    assert '<html lang="ja">' in chosen.text


def test_accept_language_parsing_never_raises():
    assert negotiate(None, None) == "ja"
    assert negotiate("xx", "de;q=abc, en;q=0.1") == "en"
    assert negotiate(None, "en;q=0, ja;q=0.5") == "ja"
    assert parse_accept_language(";;, ,q=1;q=2") == []


def test_every_catalog_entry_exists_in_both_languages():
    for key, (japanese, english) in CATALOG.items():
        assert japanese.strip() and english.strip(), key


async def test_language_switch_sets_the_cookie_with_a_valid_token(api: httpx.AsyncClient):
    page = await api.get("/stats")
    token = api.cookies[CSRF_COOKIE]
    assert f'value="{token}"' in page.text
    switched = await api.post(
        "/lang",
        data={"csrf_token": token, "lang": "en", "next": "/stats"},
        headers={"Origin": "http://registry.test"},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/stats"
    assert api.cookies["lang"] == "en"
    assert '<html lang="en">' in (await api.get("/stats")).text


@pytest.mark.parametrize(
    "case",
    ["no token", "wrong token", "no cookie", "other origin", "json body"],
)
async def test_language_switch_refuses_a_forged_form(api: httpx.AsyncClient, case: str):
    await api.get("/")
    token = api.cookies[CSRF_COOKIE]
    data: dict[str, str] = {"lang": "en", "next": "/"}
    headers = {"Origin": "http://registry.test"}
    if case == "wrong token":
        data["csrf_token"] = "x" * 43
    elif case in ("no cookie", "other origin", "json body"):
        data["csrf_token"] = token
    if case == "no cookie":
        api.cookies.delete(CSRF_COOKIE)
    if case == "other origin":
        headers["Origin"] = "https://attacker.example"
    if case == "json body":
        response = await api.post("/lang", content=json.dumps(data), headers=headers)
    else:
        response = await api.post("/lang", data=data, headers=headers)
    assert response.status_code == 403
    assert "lang" not in api.cookies
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_language_switch_only_redirects_within_the_site(api: httpx.AsyncClient):
    await api.get("/")
    token = api.cookies[CSRF_COOKIE]
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", ""):
        response = await api.post("/lang", data={"csrf_token": token, "lang": "en", "next": target})
        assert response.status_code == 303 and response.headers["location"] == "/", target


async def test_markup_in_a_claim_is_escaped_everywhere(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    title = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
    name = "</script><script>alert(3)</script>"
    claim_id = await file_claim(api, alice, clock, title=title, identifiers=[("name", name)])
    page = (await api.get(f"/claims/{claim_id}")).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert html.escape(title) in page or "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The JSON data block cannot be closed by the document's text.
    block = re.search(r'<script type="application/json" id="claim-data">(.*?)</script>', page, re.S)
    assert block is not None and json.loads(block.group(1))["subject"]["title"] == title
    found = (await api.get("/lookup", params={"q": name, "scheme": "name"})).text
    assert claim_id[:16] in found and "<script>alert" not in found


async def test_claim_page_shows_history_and_a_server_checked_proof(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    first = await file_claim(api, alice, clock, title="一つ目")
    await file_claim(api, alice, clock, identifiers=[("url", "https://example.org/")])
    page = await api.get(f"/claims/{first}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "一つ目" in page.text
    proof = json.loads(re.search(r'id="proof-data">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert proof["leaf_index"] == 0 and proof["tree_size"] == 2 and proof["server_verified"] is True
    assert len(proof["inclusion_proof"]) == 1 and proof["checkpoint"].split("\n")[1] == "2"


@pytest.mark.parametrize(
    "path",
    [
        "/claims/nope",
        "/claims/" + "0" * 64,
        "/notices/" + "f" * 64,
        "/notices/<script>",
        "/claims/" + "A" * 64,
    ],
)
async def test_unknown_things_are_an_html_404(api: httpx.AsyncClient, path: str):
    response = await api.get(path)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "query",
    [
        {"q": "http://[::1"},
        {"q": "0000 0000 0000 0000", "scheme": "isni"},
        {"q": "Q0", "scheme": "wikidata"},
        {"q": "zz", "scheme": "sha256"},
        {"q": "x" * 5000},
        {"q": "abc", "scheme": "nonsense"},
        {"q": "abc", "scheme": "claim"},
        {"q": "山田\u0301"},
    ],
)
async def test_bad_lookups_are_explained_not_500(api: httpx.AsyncClient, query: dict[str, str]):
    response = await api.get("/lookup", params=query)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("raw", ["q=%ED%A0%80", "q=%FF%FE", "q=a&q=b&scheme=", "q=%00"])
async def test_undecodable_lookups_are_not_500(api: httpx.AsyncClient, raw: str):
    response = await api.get("/lookup?" + raw)
    assert response.status_code == 200, response.text


async def test_lookup_by_claim_id_goes_to_the_claim(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    claim_id = await file_claim(api, alice, clock)
    response = await api.get("/lookup", params={"q": claim_id.upper()})
    assert response.status_code == 303 and response.headers["location"] == f"/claims/{claim_id}"
    found = await api.get("/lookup", params={"q": "https://www.example.com/gallery/x.png"})
    assert claim_id[:16] in found.text
    # 64 hex digits that are no id are looked up as a file's SHA-256 ("automatic"), or said unknown.
    unknown = await api.get("/lookup", params={"q": "b" * 64}, headers={"Accept-Language": "en"})
    assert unknown.status_code == 200 and 'data-scheme="sha256"' in unknown.text
    assert "No reservation matches." in unknown.text
    as_id = await api.get(
        "/lookup", params={"q": "b" * 64, "scheme": "claim"}, headers={"Accept-Language": "en"}
    )
    assert as_id.status_code == 200 and "No claim or notice has that id." in as_id.text


async def test_lookup_by_notice_id_goes_to_the_notice(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    operator = keys.SigningKey.generate()
    notice = await api.post("/v1/notices", content=json.dumps(complete_notice(alice, operator.did, clock())))
    notice_id = notice.json()["id"]
    response = await api.get("/lookup", params={"q": notice_id, "scheme": "claim"})
    assert response.status_code == 303 and response.headers["location"] == f"/notices/{notice_id}"
    page = await api.get(response.headers["location"], headers={"Accept-Language": "en"})
    assert "held, and delivered" in page.text and "acme/painter-v2" in page.text


def test_lookup_guesses_the_scheme():
    assert lookup_item("auto", "https://a.example/") == {"scheme": "url", "value": "https://a.example/"}
    assert lookup_item("auto", "Q42") == {"scheme": "wikidata", "value": "Q42"}
    assert lookup_item("auto", "0000 0001 2103 2683") == {"scheme": "isni", "value": "0000 0001 2103 2683"}
    assert lookup_item("auto", "山田 花子") == {"scheme": "name", "value": "山田 花子"}
    assert lookup_item("auto", "A" * 64) == {"scheme": "sha256", "value": "a" * 64}  # ids tried first
    assert lookup_item("claim", "a" * 64) is None
    assert lookup_item("auto", "ISCC:GAAXL2XYM5BQIAZ3") == {
        "scheme": "iscc",
        "value": "ISCC:GAAXL2XYM5BQIAZ3",
    }
    assert lookup_item("auto", "https://www.wikidata.org/wiki/Q42")["scheme"] == "wikidata"  # type: ignore[index]


async def test_takedown_form_lists_each_regimes_requirements_from_the_registry(api: httpx.AsyncClient):
    page = (await api.get("/takedown")).text
    data = json.loads(re.search(r'id="requirements-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert list(data) == sorted(REGIMES)
    for regime in REGIMES:
        assert [item["pointer"] for item in data[regime]] == [
            pointer for pointer, _, _ in REQUIREMENTS[regime]
        ]
        for pointer, _, _ in REQUIREMENTS[regime]:  # each said in the page's language
            assert str(escape(translate("ja", f"req.{regime}.{pointer}"))) in page
    # Every pointer a regime requires has a field on the form.
    for pointer in {pointer for rows in REQUIREMENTS.values() for pointer, _, _ in rows}:
        assert f'data-pointer="{pointer}"' in page, pointer


async def test_stats_page_has_a_table_and_a_chart(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    empty = await api.get("/stats", headers={"Accept-Language": "en"})
    assert "No notices yet." in empty.text and "<svg" not in empty.text
    operator = keys.SigningKey.generate()
    response = await api.post(
        "/v1/operators", content=json.dumps(registration(operator, clock(), name="<b>Acme</b>"))
    )
    assert response.status_code == 201
    notice = await api.post("/v1/notices", content=json.dumps(complete_notice(alice, operator.did, clock())))
    assert notice.status_code == 201, notice.text
    page = (await api.get("/stats")).text
    assert "<b>Acme</b>" not in page and "&lt;b&gt;Acme&lt;/b&gt;" in page
    assert page.count("<rect") == 2 and '<table id="stats-table"' in page and operator.did in page
    state = await api.get(f"/notices/{notice.json()['id']}", headers={"Accept-Language": "en"})
    assert state.status_code == 200 and 'data-state="filed"' in state.text and "Acknowledge by" in state.text


async def test_pages_escape_the_request_path(api: httpx.AsyncClient):
    response = await api.get('/notices/"><img src=x onerror=alert(1)>')
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "<img src=x" not in response.text


# ------------------------------------------------------------------ authority on the pages


@dataclass
class Portal:
    http: httpx.AsyncClient
    state: Any
    clock: Clock


@pytest.fixture
async def portal(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Portal]:
    """Like the `api` fixture, keeping the application's state (to log domain verifications)."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    app = create_app(Settings(data_dir=tmp_path / "data", db_url=db_url), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Portal(client, app.state.registry, clock)


def _identifier_items(page: str) -> list[str]:
    found = re.search(r'<ul class="identifiers">(.*?)</ul>', page, re.S)
    assert found is not None
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)


async def test_claim_page_shows_authority_per_identifier_with_its_chain(
    portal: Portal, alice: keys.SigningKey, clock: Clock
) -> None:
    claim_id = await file_claim(
        portal.http,
        alice,
        clock,
        identifiers=[("url", "https://www.publisher.example/books/"), ("isni", "0000000121032683")],
    )
    before = (await portal.http.get(f"/claims/{claim_id}")).text
    section = re.search(r'<section id="authority".*?</section>', before, re.S)
    assert section is not None and "基本の裏付け" in section.group(0) and "自己申告" in section.group(0)
    assert '<ol class="chain">' not in section.group(0)
    assert translate("ja", "authority.none") in before
    assert all("authority-domain-verified" not in item for item in _identifier_items(before))

    verification = await verify_domain(portal.state, alice.did, "publisher.example")
    index = (await LogEntry.get(document_id=verification)).index
    page = (await portal.http.get(f"/claims/{claim_id}")).text
    url_item, isni_item = _identifier_items(page)
    assert "ドメイン確認済み" in url_item and "自己申告" in url_item
    assert "ドメイン確認済み" not in isni_item and "自己申告" in isni_item
    chain = re.search(r'<ol class="chain">(.*?)</ol>', page, re.S)
    assert chain is not None
    assert "このレジストリ" in chain.group(1) and "確認ファイル（/.well-known/）" in chain.group(1)
    assert f"ログ上の番号 {index}" in chain.group(1) and ".publisher.example" in chain.group(1)
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[\d:]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', chain.group(1)
    )

    english = (await portal.http.get(f"/claims/{claim_id}", headers={"Accept-Language": "en"})).text
    assert "domain-verified" in english and "this registry" in english
    assert "verification file (/.well-known/)" in english and f"Log index {index}" in english


async def test_an_agents_claim_without_a_mandate_shows_why_it_is_only_agent_asserted(
    portal: Portal, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
) -> None:
    behalf = {"principal": "Aoi Tanaka", "authority": "mandate #7", "did": mallory.did}
    claim_id = await file_claim(
        portal.http, alice, clock, identifiers=[("name", "田中 葵")], on_behalf_of=behalf
    )
    page = (await portal.http.get(f"/claims/{claim_id}")).text
    assert "代理人申告" in page and "本人の委任状はログにありません" in page
    notes = re.search(r'<div class="authority-notes">(.*?)</div>', page, re.S)
    assert notes is not None and "no mandate" in notes.group(1)
    found = (await portal.http.get("/lookup", params={"q": "田中葵", "scheme": "name"})).text
    assert claim_id[:16] in found and "代理人申告" in found and "no mandate" in found


async def test_lookup_results_show_each_matchs_authority_and_chain(
    portal: Portal, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
) -> None:
    verified = await file_claim(
        portal.http, alice, clock, identifiers=[("url", "https://publisher.example/")]
    )
    asserted = await file_claim(
        portal.http, mallory, clock, identifiers=[("url", "https://publisher.example/a/")]
    )
    await verify_domain(portal.state, alice.did, "publisher.example")
    page = (await portal.http.get("/lookup", params={"q": "https://publisher.example/a/b.html"})).text
    matches = dict(re.findall(r'<li[^>]*><a href="/claims/([0-9a-f]{64})">(.*?)</li>', page, re.S))
    assert set(matches) == {verified, asserted}
    assert "ドメイン確認済み" in matches[verified] and '<ol class="chain">' in matches[verified]
    assert "ドメイン確認済み" not in matches[asserted] and "自己申告" in matches[asserted]
    english = (
        await portal.http.get(
            "/lookup", params={"q": "https://publisher.example/a/"}, headers={"Accept-Language": "en"}
        )
    ).text
    assert "Authority" in english and "anyone can file a self-asserted claim" in english


async def test_operator_picker_and_stats_show_domain_and_authority_verified_first(
    portal: Portal, alice: keys.SigningKey, clock: Clock
) -> None:
    impostor, verified, mimic = (keys.SigningKey.generate() for _ in range(3))
    for key, name in ((impostor, "Acme AI"), (mimic, "[ドメイン確認済み · acme.example] Acme")):
        answer = await portal.http.post(
            "/v1/operators", content=json.dumps(registration(key, clock(), name=name))
        )
        assert answer.status_code == 201, answer.text
    await verify_domain(portal.state, verified.did, "acme.example")
    answer = await portal.http.post(
        "/v1/operators", content=json.dumps(registration(verified, clock(), name="Acme AI"))
    )
    assert answer.status_code == 201, answer.text

    page = (await portal.http.get("/takedown")).text
    options = re.findall(r'<option value="([^"]+)" label="([^"]+)" data-authority="([^"]+)">', page)
    assert options[0][0] == verified.did and options[0][2] == "domain-verified"
    labels = {did: html.unescape(label) for did, label, _ in options}
    assert labels[verified.did] == "[ドメイン確認済み · acme.example] Acme AI"
    assert labels[impostor.did] == "[自己申告 · 未確認 · 名前に異議] Acme AI"
    # A name cannot dress up as the registry's label: the registry's bracket always comes first.
    assert labels[mimic.did].startswith("[自己申告 · 未確認] [")
    data = json.loads(re.search(r'id="operators-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert data[0] == {
        "did": verified.did,
        "name": "Acme AI",
        "authority": "domain-verified",
        "domain": "acme.example",
        "name_disputed": False,
        "name_held_by": None,
    }
    directory = re.search(r'<details id="operator-directory">(.*?)</details>', page, re.S)
    assert directory is not None and directory.group(1).index(verified.did) < directory.group(1).index(
        impostor.did
    )

    for did in (verified.did, impostor.did):
        notice = await portal.http.post(
            "/v1/notices", content=json.dumps(complete_notice(alice, did, clock()))
        )
        assert notice.status_code == 201, notice.text
    stats = (await portal.http.get("/stats", headers={"Accept-Language": "en"})).text
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', stats, re.S)
    assert verified.did in rows[0] and "domain-verified" in rows[0] and "acme.example" in rows[0]
    disputed = next(row for row in rows if impostor.did in row)
    assert "self-asserted" in disputed and "unverified" in disputed and "another, domain-verified" in disputed
    assert "[domain-verified · acme.example] Acme AI" in stats  # the chart's label
    shown = (await portal.http.get(f"/notices/{notice.json()['id']}")).text
    operator = re.search(r'<dd id="notice-operator">(.*?)</dd>', shown, re.S)
    assert operator is not None and "自己申告" in operator.group(1) and "未確認" in operator.group(1)


def test_times_are_written_in_utc_for_the_page_script_to_localise() -> None:
    assert human_time("2026-11-22T04:38:47Z") == "2026-11-22 04:38 UTC"
    assert human_time("not a time") == "not a time" and human_time(None) == ""
    script = (Path(api_package.__file__).parent / "static" / "js" / "times.js").read_text(encoding="utf-8")
    assert "time[datetime]" in script and "textContent" in script


@pytest.mark.parametrize(
    ("language", "said"), [("ja", "公開され、透明性ログに永久に残ります"), ("en", "public and permanent")]
)
async def test_the_reserve_page_says_a_claim_is_public_before_signing(
    api: httpx.AsyncClient, language: str, said: str
) -> None:
    page = (await api.get("/reserve", headers={"Accept-Language": language})).text
    assert said in page
    assert page.index('id="public-warning"') < page.index('id="sign-claim"')


def test_durations_read_as_people_say_them_and_zero_bars_are_drawn():
    from api.portal import bar_chart, human_duration

    assert [human_duration(s, "ja") for s in (0, 59, 60, 5400, 36_000, 200_000, None)] == [
        "1 分未満", "1 分未満", "1 分", "1.5 時間", "10 時間", "2 日", "—",
    ]  # fmt: skip
    assert "0.0" not in human_duration(1, "en") and human_duration(3600, "en") == "1 h"
    chart = bar_chart([{"operator": "did:key:z6Mk" + "x" * 40, "received": 0, "actioned": 0}])
    bar = chart["bars"][0]
    assert bar["received_zero"] and bar["received_width"] >= 3 and bar["actioned_width"] >= 3


async def test_the_stats_page_links_to_the_operators_public_records(api: httpx.AsyncClient):
    page = await api.get("/stats", headers={"Accept-Language": "en"})
    assert '<a href="/operators">Each operator&#39;s public record' in page.text
    ranking = await api.get("/operators")
    assert ranking.status_code == 200
