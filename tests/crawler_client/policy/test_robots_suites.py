"""robots.txt against two suites nobody here wrote: google/robotstxt's `robots_test.cc` and protego's
`tests/test_protego.py`, ported case by case as data (see each file's `source` for repository, commit
and licence).

A case marked `deviation` keeps the upstream expectation and names the RFC 9309 section that
requires the opposite; it is checked to give that opposite, so a deviation cannot pass silently.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crawler_client.signals.robots import RobotsTxt, valid_product_token

DATA = Path(__file__).parent / "data"
_REPEAT = re.compile(r"\{(.)\*(\d+)\}")


def _load(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document["robots"], document["cases"]


def _body(bodies: dict[str, Any], case: dict[str, Any]) -> bytes:
    text = bodies[case["robots"]]
    if case.get("expand"):
        text = _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)
    return text.encode("latin-1" if case.get("encoding") == "latin-1" else "utf-8")


def _url(case: dict[str, Any]) -> str:
    url: str = case["url"]
    return _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), url) if case.get("expand") else url


def _observed(bodies: dict[str, Any], case: dict[str, Any]) -> object:
    kind = case["kind"]
    if kind == "valid_token":
        return valid_product_token(case["token"])
    robots = RobotsTxt.parse(_body(bodies, case))
    if kind == "allowed":
        return robots.is_allowed(_url(case), case["agent"])
    if kind == "sitemaps":
        return list(robots.sitemaps)
    if kind == "crawl_delay":
        return robots.crawl_delay(case["agent"])
    if kind == "request_rate":
        rate = robots.request_rate(case["agent"])
        return None if rate is None else [rate[0], rate[1]]
    if kind == "report":
        if case["measure"] == "last_line":
            return max(line for g in robots.groups for line in [*g.lines, *(r.line for r in g.rules)])
        return {"directives": robots.directives, "unknown": robots.unknown_records, "lines": robots.lines}[
            case["measure"]
        ]
    raise AssertionError(f"unknown kind {kind}")


def _cases(name: str) -> list[Any]:
    bodies, cases = _load(name)
    return [pytest.param(bodies, case, id=case["id"]) for case in cases]


def _check(bodies: dict[str, Any], case: dict[str, Any]) -> None:
    observed = _observed(bodies, case)
    deviation = case.get("deviation")
    if deviation is None:
        assert observed == case["expected"]
    else:
        assert deviation["rfc"].startswith("RFC 9309 ") and deviation["reason"]
        assert observed == (not case["expected"] if "ours" not in deviation else deviation["ours"])


@pytest.mark.parametrize(("bodies", "case"), _cases("google_robotstxt.json"))
def test_google_robotstxt_case(bodies: dict[str, Any], case: dict[str, Any]) -> None:
    _check(bodies, case)


@pytest.mark.parametrize(("bodies", "case"), _cases("protego.json"))
def test_protego_case(bodies: dict[str, Any], case: dict[str, Any]) -> None:
    _check(bodies, case)


def test_every_id_case_of_robots_test_cc_is_ported() -> None:
    _, cases = _load("google_robotstxt.json")
    ids = [c["id"] for c in cases if c["suite"] == "ID"]
    assert len(ids) == len(set(ids)) == 104  # every EXPECT_* inside the ID_* tests
    assert sum(c["kind"] == "allowed" for c in cases if c["suite"] == "ID") == 72


def test_every_can_fetch_assertion_of_test_protego_is_ported() -> None:
    _, cases = _load("protego.json")
    assert sum(c["kind"] == "allowed" for c in cases) == 313
    assert len({c["id"] for c in cases}) == len(cases)
