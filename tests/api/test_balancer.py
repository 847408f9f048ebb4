"""Two `kotowari serve` workers on one PostgreSQL behind Debian's haproxy, with the README's
configuration (issue 19): the real `AsyncClient` files signed claims and checks URLs through the
balancer while one worker is killed with SIGKILL mid-run and later started again on its port.

Nothing is lost and nothing is logged twice, every receipt and every check answer verifies and
agrees with the log as it ends up, the client's retries absorb every failure the kill causes (they
are counted), and both workers, the restarted one again after its restart, serve requests. A second
test pins the two start-up defects the first one found (a worker starting while another files).
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client import AsyncClient
from crawler_client.core import RETRY_STATUSES
from crawler_client.verification import verify_answer
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from registry.documents import new_claim
from tests.api.test_log_crash import read_log
from tests.balancer import Balancer, Worker, configured, haproxy_binary, readme_config, required

BEFORE = 60  # filed one per request from the start; the kill comes after KILL_AFTER of them
KILL_AFTER = 25
WHILE_DOWN = 400  # at most: filed, paced, while the worker is down and while it restarts
PACE = 0.05  # seconds each filer waits between those filings (the phase lasts as the restart does)
AFTER = 50  # filed once the restarted worker is up again
BULK_SIZE = 15  # one array before the kill, one after the restart
FILERS = 6
CHECKERS = 2
CHECK_ITEMS = 120  # URLs per check request


@pytest.fixture
def haproxy() -> str:
    binary = haproxy_binary()
    if binary is None:
        if required():
            pytest.fail("haproxy is required here (KOTOWARI_REQUIRE_HAPROXY) but is not installed")
        pytest.skip("haproxy is not installed: apt-get install haproxy for the load-balancer test")
    return binary


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, counting what each attempt met: a status, or a transport error."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.outcomes: Counter[int | str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            self.outcomes[type(exc).__name__] += 1
            raise
        self.outcomes[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def retried(self) -> int:
        """Attempts that failed in a way the client retries (it raised nothing, so it did retry)."""
        return sum(n for what, n in self.outcomes.items() if isinstance(what, str) or what in RETRY_STATUSES)


def site(number: int) -> str:
    return f"https://site{number}.example/gallery/"


def signed(key: keys.SigningKey, number: int, now: datetime) -> dict[str, Any]:
    claim = new_claim(key.did, "work", [("url", site(number))], {"train-ai": "n"}, created=now)
    return keys.sign_document(claim, key, created=now)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_generated_configuration_is_the_readmes_with_this_runs_ports() -> None:
    readme = readme_config()
    generated = configured(readme, 9000, 9001, [("w1", 7001), ("w2", 7002), ("w3", 7003)])
    assert "    server w1 127.0.0.1:8001 check\n    server w2 127.0.0.1:8002 check\n" in readme
    assert "bind 127.0.0.1:8000" in readme and "bind 127.0.0.1:8404" in readme
    expected = (
        readme.replace("bind 127.0.0.1:8000", "bind 127.0.0.1:9000")
        .replace("bind 127.0.0.1:8404", "bind 127.0.0.1:9001")
        .replace(
            "    server w1 127.0.0.1:8001 check\n    server w2 127.0.0.1:8002 check\n",
            "    server w1 127.0.0.1:7001 check\n    server w2 127.0.0.1:7002 check\n"
            "    server w3 127.0.0.1:7003 check\n",
        )
    )
    assert generated == expected
    with pytest.raises(ValueError, match="no `server` line"):
        configured("backend workers\n    balance leastconn\n", 1, 2, [("w1", 3)])


async def test_filings_and_checks_survive_a_worker_killed_and_restarted_behind_haproxy(
    haproxy: str, postgres_db_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    workers = [Worker(f"w{n}", data, postgres_db_url, tmp_path / f"w{n}.log") for n in (1, 2)]
    balancer = Balancer(haproxy, workers, tmp_path / "haproxy")
    try:
        for worker in workers:  # one after the other: the first creates the registry key
            worker.start()
        balancer.start()
        await run_and_verify(balancer, workers)
    finally:
        balancer.stop()
        for worker in workers:
            worker.stop()
    for worker in workers:
        assert "Traceback" not in worker.output(), worker.output()


async def run_and_verify(balancer: Balancer, workers: list[Worker]) -> None:
    victim = workers[0]
    now = datetime.now(UTC)
    signers = [keys.SigningKey.generate() for _ in range(5)]
    pool = BEFORE + WHILE_DOWN + AFTER + 2 * BULK_SIZE
    documents = [signed(signers[n % 5], n, now) for n in range(pool)]
    number_of = {keys.document_id(document): n for n, document in enumerate(documents)}
    bulks = [documents[:BULK_SIZE], documents[BULK_SIZE : 2 * BULK_SIZE]]
    before = documents[2 * BULK_SIZE : 2 * BULK_SIZE + BEFORE]
    after = documents[2 * BULK_SIZE + BEFORE : 2 * BULK_SIZE + BEFORE + AFTER]
    while_down = documents[2 * BULK_SIZE + BEFORE + AFTER :]
    meant: list[dict[str, Any]] = [*bulks[0], *bulks[1], *before, *after]  # and what while_down gives

    did = httpx.get(f"{balancer.url}/v1/registry").json()["did"]
    filing, checking = CountingTransport(), CountingTransport()
    receipts: list[tuple[dict[str, Any], dict[str, Any]]] = []
    answers: list[tuple[list[int], dict[str, Any]]] = []
    restarted, restarting, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    filed_while_restarting = 0
    cut: list[int] = []  # requests haproxy counted at the killed worker just before the kill
    back: dict[str, str] = {}  # haproxy's row for it once it is up again
    picker = random.Random(19)

    async with (
        AsyncClient(balancer.url, registry_did=did, transport=filing) as filer_client,
        AsyncClient(balancer.url, registry_did=did, transport=checking) as checker_client,
    ):

        async def file_one(document: dict[str, Any]) -> None:
            nonlocal filed_while_restarting
            receipts.append((document, await filer_client.file_claim(document)))
            filed_while_restarting += restarting.is_set() and not restarted.is_set()

        async def file_from(queue: list[dict[str, Any]]) -> None:
            while queue:
                await file_one(queue.pop())

        async def file_bulk(chunk: list[dict[str, Any]]) -> None:
            results = await filer_client.file_claims(chunk)
            assert [result["status"] for result in results] == [201] * len(chunk), results
            receipts.extend(zip(chunk, results, strict=True))

        async def filer() -> None:
            await file_from(before)
            while not restarted.is_set() and while_down:  # on through the kill and the restart
                document = while_down.pop()
                meant.append(document)
                await file_one(document)
                await asyncio.sleep(PACE)
            await restarted.wait()  # the last ones only once the killed worker is back
            await file_from(after)

        async def checker() -> None:
            while not done.is_set():
                numbers = [picker.randrange(pool + 50) for _ in range(CHECK_ITEMS)]
                items = [{"scheme": "url", "value": f"{site(n)}{n}.png"} for n in numbers]
                result = await checker_client.check(items, purpose="train-ai")
                (answer,) = result.answers
                answers.append((numbers, answer))

        async def chaos() -> None:
            await until(lambda: len(receipts) >= KILL_AFTER)
            # SIGKILL with requests in its hands, from a thread: this loop is busy verifying answers.
            cut.append(await asyncio.to_thread(balancer.kill_serving, victim))
            await asyncio.to_thread(balancer.wait_status, victim.name, "DOWN")
            restarting.set()  # at once, while filings and checks go on through the other worker
            await asyncio.to_thread(victim.start)  # on the same port
            back.update(await asyncio.to_thread(balancer.wait_status, victim.name, "UP"))
            restarted.set()

        async def filings() -> None:
            await asyncio.gather(*(filer() for _ in range(FILERS)), file_bulk(bulks[0]), later_bulk())
            done.set()

        async def later_bulk() -> None:
            await restarted.wait()
            await file_bulk(bulks[1])

        await asyncio.gather(chaos(), filings(), *(checker() for _ in range(CHECKERS)))

    # Both workers served, and the restarted one serves again after its restart.
    final = await asyncio.to_thread(balancer.servers)
    assert cut[0] >= 1, "the kill cut requests off"
    assert victim.starts == 2 and int(final[victim.name]["chkdown"]) >= 1
    assert all(int(final[worker.name]["hrsp_2xx"]) > 0 for worker in workers)
    assert int(final[victim.name]["hrsp_2xx"]) > int(back["hrsp_2xx"]), (back, final[victim.name])

    # Every document filed exactly once: the log holds each, once, and nothing else.
    head, entries = read_log(balancer.url)
    total = len(meant)
    assert head.size == total == len(receipts) and filed_while_restarting > 0
    assert Counter(entries) == Counter(keys.canonicalize(document) for document in meant)
    index_of = {number_of[keys.document_id(keys.parse_strict_json(e))]: i for i, e in enumerate(entries)}
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    roots: dict[int, bytes] = {}

    def root(size: int) -> bytes:
        if size not in roots:
            roots[size] = merkle.root_from_leaf_hashes(leaves[:size])
        return roots[size]

    assert head.root_hash == root(head.size)

    # Every receipt proves its entry in a signed checkpoint of this very log, whichever worker
    # signed it, and places the document where the log has it.
    info = httpx.get(f"{balancer.url}/v1/registry").json()
    verifier = parse_verifier_key(info["log"]["note_verifier_key"])
    recovered = 0
    for document, receipt in receipts:
        log = receipt["log"]
        assert receipt["id"] == keys.document_id(document)
        assert log["index"] == index_of[number_of[receipt["id"]]]
        leaf = merkle.leaf_hash(keys.canonicalize(document))
        checkpoint = Checkpoint.parse(open_note(log["checkpoint"], [verifier]).text)
        assert checkpoint.origin == info["log"]["origin"] and checkpoint.size == log["tree_size"]
        proof = [b64(node) for node in log["inclusion_proof"]]
        merkle.verify_inclusion(leaf, log["index"], log["tree_size"], proof, checkpoint.root_hash)
        assert checkpoint.root_hash == root(checkpoint.size)
        recovered += bool(receipt.get("already_filed"))

    # Every check answer is signed, is of this log at its tree size, and decides each URL exactly
    # as that prefix of the log does: reserved if its claim lies below the tree size, else unknown.
    assert answers, "checks ran throughout"
    for numbers, answer in answers:
        verify_answer(answer)
        size = answer["checkpoint"]["tree_size"]
        assert b64(answer["checkpoint"]["root_hash"]) == root(size)
        expected = ["n" if n in index_of and index_of[n] < size else "unknown" for n in numbers]
        assert [item["decision"] for item in answer["items"]] == expected

    # The client raised nothing; what its retries absorbed is counted (and printed with -s).
    served = ", ".join(f"{worker.name} {final[worker.name]['hrsp_2xx']}" for worker in workers)
    assert 500 not in filing.outcomes and 500 not in checking.outcomes
    print(
        f"\nbalancer: killed {victim.name} with {cut[0]} request(s) in hand; {total} filed"
        f" ({filed_while_restarting} while it restarted, {recovered} receipts rebuilt after a lost answer),"
        f" {len(answers)} checks of {CHECK_ITEMS} URLs; retried attempts: filing {filing.retried()}"
        f" {dict(filing.outcomes)}, checking {checking.retried()} {dict(checking.outcomes)};"
        f" haproxy {victim.name}: {final[victim.name]['wretr']} retries,"
        f" {final[victim.name]['wredis']} redispatches, {final[victim.name]['eresp']} response errors,"
        f" {final[victim.name]['econ']} connection errors; served 2xx"
        f" {served}"
    )


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait (without blocking the loop) until `condition()` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the run did not get there in time")
        await asyncio.sleep(0.01)


async def test_a_worker_starting_while_another_files_verifies_the_log_at_one_snapshot(
    postgres_db_url: str, tmp_path: Path
) -> None:
    """Start-up (schema and verification, what a restarted worker runs before serving) while
    another worker files. Found by the kill-and-restart test above, and pinned here:
    - verification read the log's size, then the rows: a claims row added in between was "a row
      that caches no entry", and the restarted worker answered only 503 integrity-failure (it now
      reads one REPEATABLE READ snapshot);
    - `CREATE INDEX IF NOT EXISTS` locks its table: the starting worker's schema deadlocked with
      the running worker's filing, which PostgreSQL aborted, a 500 (the schema now gives way)."""
    import shutil

    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings
    from api.app import verify_database

    worker = Worker("w1", tmp_path / "worker", postgres_db_url, tmp_path / "w1.log")
    worker.start()
    starting = tmp_path / "starting"  # the same registry key, its own verification mark
    starting.mkdir()
    shutil.copy(tmp_path / "worker" / "registry.key", starting / "registry.key")
    key = keys.SigningKey.generate()
    now = datetime.now(UTC)
    queue = [signed(key, n, now) for n in range(600)]
    verified: list[int] = []
    try:
        async with httpx.AsyncClient(base_url=worker.url, timeout=60) as client:

            async def filer() -> None:
                while queue:
                    answer = await client.post("/v1/claims", content=keys.canonicalize(queue.pop()))
                    assert answer.status_code == 201, answer.text

            async def starts() -> None:
                while queue and len(verified) < 12:
                    EXECUTOR_CACHE.clear()
                    report = await verify_database(Settings(data_dir=starting, db_url=postgres_db_url))
                    verified.append(report.tree_size)

            await asyncio.gather(starts(), *(filer() for _ in range(8)))
    finally:
        worker.stop()
    assert "Traceback" not in worker.output(), worker.output()
    assert len(verified) >= 3 and verified == sorted(verified), verified
