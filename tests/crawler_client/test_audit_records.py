"""`kotowari log audit` recomputes the operators' public records from the log it mirrored and
compares them with what the registry serves: a consistent registry passes, one that edits a record
(a count lowered, an overdue notice hidden) is caught with the place it differs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crawler_client.audit import Auditor
from crawler_client.core import NO_RETRIES
from tests.accountability_helpers import Registry, registry
from tests.api.test_accountability_recompute import build_log
from tests.crawler_client.cli_harness import run
from tests.crawler_client.test_audit import Proxy, json_answer


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    tmp = tmp_path_factory.mktemp("records")
    with registry(tmp / "data", None) as running:
        build_log(running, tmp)
        yield running


def audit(reg: Registry, state: Path, proxy: Proxy | None = None) -> tuple[Auditor, list[str]]:
    with Auditor(reg.url, state, transport=proxy, retry=NO_RETRIES) as auditor:
        report = auditor.run()
    return auditor, [f"{d.kind}: {d.message}" for d in report.discrepancies] + [
        f"records {report.records_compared}"
    ]


def test_a_consistent_registry_passes_with_every_record_compared(reg: Registry, tmp_path: Path) -> None:
    operators = len(httpx.get(f"{reg.url}/v1/accountability/operators").json()["operators"])
    assert operators >= 3
    _, found = audit(reg, tmp_path / "state")
    assert found == [f"records {operators}"]


def test_a_record_edited_by_the_registry_is_a_discrepancy(reg: Registry, tmp_path: Path) -> None:
    def lower(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if not request.url.path.startswith("/v1/accountability/operators/"):
            return None
        record = json.loads(response.content)
        record["notices"]["received"] = max(0, record["notices"]["received"] - 1)
        return json_answer(record)

    _, found = audit(reg, tmp_path / "state", Proxy(lower))
    assert found[0].startswith("record: the record of did:key:") and found[0].endswith(
        "differs from the log's at /notices/received"
    )


def test_a_ranking_that_hides_an_operator_is_a_discrepancy(reg: Registry, tmp_path: Path) -> None:
    def hide(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/v1/accountability/operators" or "sort=repeats" not in str(request.url):
            return None
        ranking = json.loads(response.content)
        ranking["operators"] = ranking["operators"][1:]
        return json_answer(ranking)

    _, found = audit(reg, tmp_path / "state", Proxy(hide))
    assert found[:-1] == ["record: the ranking by repeats differs from the log's at /operators"]


def test_records_computed_at_another_size_are_noted_not_compared(reg: Registry, tmp_path: Path) -> None:
    def ahead(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/v1/accountability/operators":
            return None
        ranking = json.loads(response.content)
        ranking["tree_size"] += 1
        return json_answer(ranking)

    with Auditor(reg.url, tmp_path / "state", transport=Proxy(ahead), retry=NO_RETRIES) as auditor:
        report = auditor.run()
    assert report.consistent and report.records_compared == 0
    assert any("not at the checkpoint audited" in note for note in report.notes)


def test_the_cli_says_how_many_records_it_compared(
    reg: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operators = len(httpx.get(f"{reg.url}/v1/accountability/operators").json()["operators"])
    code, out, err = run(capsys, "log", "audit", "--registry", reg.url, "--state", str(tmp_path / "state"))
    assert code == 0, err
    assert re.fullmatch(
        rf"audited \d+ entries, \d+ claims, {operators} operator records, \d+ answers: consistent\n", out
    )
