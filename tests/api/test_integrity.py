"""A registry whose database was edited while it was stopped refuses to answer, naming the fault.

Each test files claims, a withdrawal and a dispute through the application, stops it, edits the
database the way someone with access to it could (on SQLite and PostgreSQL), starts it again and
expects every endpoint to answer 503 `integrity-failure`; an untouched database restarts cleanly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from registry import integrity
from registry.models import ClaimRecord, LogEntry, UsedNonce, WithdrawalRecord
from tests.conftest import Clock
from tests.factories import body, signed_claim, signed_withdrawal
from tests.notice_factories import complete_notice, dispute, document_of, registration
from tests.notice_factories import response as notice_step

#: Entries the fixture logs: 3 claims, a withdrawal, a dispute, a registration, a notice, 2 steps.
SIZE = 9


async def write_behind(data_dir: Path, forged: dict[str, Any], claimant: str, log_index: int) -> None:
    """Append `forged` to the log and the claims table as another writer holding the registry's key
    could: hashes consistent, the signature never checked."""
    from registry.identity import default_origin, load_or_create_registry_key, note_signer
    from registry.log import TransparencyLog

    key, _ = load_or_create_registry_key(data_dir)
    origin = default_origin(key)
    log = TransparencyLog(origin, note_signer(key, origin))
    canonical = keys.canonicalize(forged)
    await log.append("Claim", keys.document_id(forged), canonical, datetime.now(UTC))
    await ClaimRecord.create(
        id=keys.document_id(forged),
        claimant=claimant,
        kind="work",
        document=canonical.decode(),
        received_at=datetime.now(UTC),
        log_index=log_index,
    )


@asynccontextmanager
async def running(db_url: str, data_dir: Path, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    app = create_app(Settings(data_dir=data_dir, db_url=db_url), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client


@pytest.fixture
async def filed(
    db_url: str, tmp_path: Path, clock: Clock, alice: keys.SigningKey, mallory: keys.SigningKey
) -> dict[str, Any]:
    """A registry with two claims (one withdrawn) and a dispute, stopped."""
    data_dir = tmp_path / "data"
    async with running(db_url, data_dir, clock) as api:
        kept = signed_claim(alice, clock.now, urls=("https://example.com/kept/",))
        gone = signed_claim(alice, clock.now, urls=("https://example.com/gone/",))
        theirs = signed_claim(mallory, clock.now, urls=("https://example.com/kept/",))
        for document in (kept, gone, theirs):
            assert (await api.post("/v1/claims", content=body(document))).status_code == 201
        ids = [keys.document_id(d) for d in (kept, gone, theirs)]
        withdrawal = signed_withdrawal(alice, ids[1], clock.now)
        response = await api.post(f"/v1/claims/{ids[1]}/withdraw", content=body(withdrawal))
        assert response.status_code == 200, response.text
        opened = await api.post("/v1/disputes", content=body(dispute(alice, ids[0], ids[2], clock.now)))
        assert opened.status_code == 201, opened.text
        assert (
            await api.post("/v1/operators", content=body(registration(mallory, clock.now)))
        ).status_code == 201
        notice = complete_notice(alice, mallory.did, clock.now)
        assert (await api.post("/v1/notices", content=body(notice))).status_code == 201
        notice_id = keys.document_id(document_of(notice))
        for action in ("acknowledge", "action"):
            step = notice_step(mallory, notice_id, action, clock.now)
            answer = await api.post(f"/v1/notices/{notice_id}/responses", content=body(step))
            assert answer.status_code in (200, 201), answer.text
    return {
        "db_url": db_url,
        "data_dir": data_dir,
        "ids": ids,
        "withdrawal": keys.document_id(withdrawal),
        "notice": notice_id,
    }


async def restart_expecting(filed: dict[str, Any], clock: Clock, detail: str) -> None:
    async with running(filed["db_url"], filed["data_dir"], clock) as api:
        answers = [
            await api.get("/healthz"),
            await api.get(f"/v1/claims/{filed['ids'][0]}"),
            await api.post("/v1/check", json={"items": [{"scheme": "url", "value": "https://example.com/"}]}),
            await api.get("/log/checkpoint"),
            await api.post("/v1/claims", content=b"{}"),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"].endswith("/integrity-failure")
        assert detail in problem["detail"], problem["detail"]


async def tamper(filed: dict[str, Any], clock: Clock, edit: Callable[[], Awaitable[Any]]) -> None:
    """Run `edit` against the stopped registry's database (opened, without serving)."""
    from tortoise import Tortoise

    from api.app import MODELS

    await Tortoise.init(db_url=filed["db_url"], modules={"models": MODELS})
    try:
        await edit()
    finally:
        await Tortoise.close_connections()


async def test_an_untouched_database_restarts_and_serves(filed: dict[str, Any], clock: Clock) -> None:
    mark = filed["data_dir"] / integrity.MARK_FILE
    assert mark.exists()  # left by the first start
    async with running(filed["db_url"], filed["data_dir"], clock) as api:
        assert (await api.get("/healthz")).status_code == 200
        stored = (await api.get(f"/v1/claims/{filed['ids'][1]}")).json()
        assert stored["status"] == "withdrawn"
    # 3 claims, a withdrawal, a dispute, an operator, a notice and its steps: every entry verified
    assert f"\n{SIZE}\n" in mark.read_text()


async def test_an_altered_claim_document_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    async def edit() -> None:
        record = await ClaimRecord.get(id=filed["ids"][0])
        await ClaimRecord.filter(id=record.id).update(document=record.document.replace('"n"', '"y"'))

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, "differs from the entry")


async def test_a_deleted_withdrawal_row_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    async def edit() -> None:
        await WithdrawalRecord.filter(id=filed["withdrawal"]).delete()
        await ClaimRecord.filter(id=filed["ids"][1]).update(
            withdrawn_at=None, withdrawal_id=None, withdrawal_log_index=None
        )

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, "has no withdrawals row")


async def test_a_deleted_claim_row_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    await tamper(filed, clock, lambda: ClaimRecord.filter(id=filed["ids"][2]).delete())
    await restart_expecting(filed, clock, "has no claims row")


async def test_a_rewritten_log_entry_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    async def edit() -> None:
        entry = await LogEntry.get(document_id=filed["ids"][0])
        forged = bytes(entry.entry).replace(b'"train-ai":"n"', b'"train-ai":"y"')
        assert forged != bytes(entry.entry)
        await LogEntry.filter(index=entry.index).update(entry=forged)

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, "log entry 0: its bytes do not hash to its stored leaf hash")


async def test_a_row_a_replay_would_recompute_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    # the withdrawn claim is marked active again (its withdrawal row left in place)
    await tamper(
        filed,
        clock,
        lambda: ClaimRecord.filter(id=filed["ids"][1]).update(
            withdrawn_at=None, withdrawal_id=None, withdrawal_log_index=None
        ),
    )
    await restart_expecting(filed, clock, "says active, the log says withdrawn")


async def test_a_changed_claimant_column_is_caught(
    filed: dict[str, Any], clock: Clock, mallory: keys.SigningKey
) -> None:
    await tamper(filed, clock, lambda: ClaimRecord.filter(id=filed["ids"][0]).update(claimant=mallory.did))
    await restart_expecting(filed, clock, "names another claimant")


async def test_deleted_nonces_are_caught(filed: dict[str, Any], clock: Clock) -> None:
    await tamper(filed, clock, lambda: UsedNonce.all().delete())
    await restart_expecting(filed, clock, "used nonces were deleted")


async def restart_cleanly(filed: dict[str, Any], clock: Clock) -> None:
    """A clean start, which leaves a mark covering every entry."""
    async with running(filed["db_url"], filed["data_dir"], clock) as api:
        assert (await api.get("/healthz")).status_code == 200


async def test_a_rolled_back_database_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    from registry.models import TreeNode

    await restart_cleanly(filed, clock)

    async def edit() -> None:
        from registry.notices.models import NoticeEventRecord

        last = SIZE - 1
        await LogEntry.filter(index=last).delete()
        await TreeNode.filter(id=last).delete()
        await NoticeEventRecord.filter(log_index=last).delete()

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, "rolled back")


async def test_a_forged_mark_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    await restart_cleanly(filed, clock)
    mark = filed["data_dir"] / integrity.MARK_FILE
    text = mark.read_text()
    assert f"\n{SIZE}\n" in text
    mark.write_text(text.replace(f"\n{SIZE}\n", "\n2\n"))
    await restart_expecting(filed, clock, "does not verify")


async def test_an_entry_whose_signature_does_not_verify_is_caught(
    filed: dict[str, Any], clock: Clock, alice: keys.SigningKey
) -> None:
    """An entry appended behind intake's back (hashes consistent, signature forged) fails at start."""
    from api.app import MODELS  # noqa: F401 - models registered by tamper()

    forged = signed_claim(alice, clock.now, urls=("https://example.com/forged/",))
    forged["uses"] = {"train-ai": "y"}  # after signing

    async def edit() -> None:
        await write_behind(filed["data_dir"], forged, alice.did, SIZE)

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, f"log entry {SIZE}: the Claim's signature does not verify")


async def test_serve_verify_exits_non_zero_on_a_tampered_database(
    filed: dict[str, Any], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    if not filed["db_url"].startswith("sqlite"):
        pytest.skip("the CLI path is the same on both; one engine is enough")
    from api import Settings
    from api.app import verify_database

    report = await verify_database(Settings(data_dir=filed["data_dir"], db_url=filed["db_url"]))
    assert (report.tree_size, report.signatures_checked) == (SIZE, SIZE)  # --verify re-checks every signature
    await tamper(filed, clock, lambda: ClaimRecord.filter(id=filed["ids"][2]).delete())
    with pytest.raises(integrity.IntegrityFailure, match="has no claims row"):
        await verify_database(Settings(data_dir=filed["data_dir"], db_url=filed["db_url"]))


def test_serve_verify_in_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kotowari serve --verify` on a tampered SQLite registry: one line, exit 1, nothing served."""
    import asyncio

    from crawler_client.cli import main

    data_dir = tmp_path / "data"
    db = f"sqlite://{data_dir / 'kotowari.sqlite3'}"
    key = keys.SigningKey.generate()

    async def prepare() -> None:
        clock = Clock()
        async with running(db, data_dir, clock) as api:
            claim = signed_claim(key, clock.now)
            assert (await api.post("/v1/claims", content=body(claim))).status_code == 201
        from tortoise import Tortoise

        from api.app import MODELS

        await Tortoise.init(db_url=db, modules={"models": MODELS})
        try:
            await LogEntry.filter(index=0).update(entry=b'{"type":"Claim"}')
        finally:
            await Tortoise.close_connections()

    asyncio.run(prepare())
    status = main(["serve", "--verify", "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "log entry 0" in err and "Traceback" not in err


async def test_claim_lookups_are_served_from_the_log_not_the_rows(
    filed: dict[str, Any], clock: Clock
) -> None:
    """Rows edited under a running registry change no answer: they are caches of the log."""
    async with running(filed["db_url"], filed["data_dir"], clock) as api:
        before = [(await api.get(f"/v1/claims/{claim_id}")).json() for claim_id in filed["ids"]]
        await ClaimRecord.all().delete()
        await WithdrawalRecord.all().delete()
        after = [(await api.get(f"/v1/claims/{claim_id}")).json() for claim_id in filed["ids"]]
        assert after == before
        assert [answer["status"] for answer in after] == ["active", "withdrawn", "active"]
        assert after[1]["withdrawal"]["id"] == filed["withdrawal"]
        assert (await api.get(f"/v1/claims/{'0' * 64}")).status_code == 404


async def test_a_notice_state_its_logged_steps_do_not_lead_to_is_caught(
    filed: dict[str, Any], clock: Clock
) -> None:
    from registry.notices.models import NoticeEventRecord, NoticeRecord

    async def edit() -> None:  # the operator "rejected" it instead, rows made to agree with each other
        await NoticeEventRecord.filter(notice_id=filed["notice"], action="action").update(to_state="rejected")
        await NoticeRecord.filter(id=filed["notice"]).update(state="rejected")

    await tamper(filed, clock, edit)
    await restart_expecting(filed, clock, "replaying the notice's logged steps gives acknowledged → actioned")


async def test_a_notice_row_in_another_state_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    from registry.notices.models import NoticeRecord

    await tamper(filed, clock, lambda: NoticeRecord.filter(id=filed["notice"]).update(state="closed"))
    await restart_expecting(filed, clock, "its logged steps lead to actioned")
