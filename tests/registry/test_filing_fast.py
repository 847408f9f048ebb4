"""Filing's fast paths, each against the reference path it replaces, on SQLite and PostgreSQL.

- `registry.log.inclusion_proofs` (one walk for a batch's leaves) gives each leaf exactly the proof
  `keys.merkle.inclusion_proof_from` gives it, asking for the same subtrees.
- A claim's row written without a model instance (`insert_rows`) is the row `bulk_create` writes.
- Bulks filed through the store with those rows give every document the outcome the reference
  (a `ClaimRecord` instance per claim, as before) gives it: same ids, keys, indexes, refusals and
  reasons, the same log, claims and nonces; every receipt's proof and checkpoint check out.
- The reads a batch makes in plain SQL (`select_rows`: the log's size, subtree hashes, used nonces,
  entries to replay) return what the ORM's queries return, in a transaction too.
- `ClaimIndex.apply` with the claim this process accepted (`known`) builds the index that parsing
  the entry builds.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

import keys
from keys import merkle
from registry.documents import Claim
from registry.errors import RegistryError
from registry.identity import note_signer
from registry.index import ClaimIndex
from registry.intake import Accepted
from registry.log import Appended, TransparencyLog, inclusion_proofs
from registry.models import ClaimRecord, LogEntry, TreeNode, UsedNonce
from registry.rows import insert_rows, select_rows
from registry.store import ClaimStore
from tests.conftest import _create_database
from tests.factories import signed_claim
from tests.registry.test_rows import ROWS

MODELS = ["registry.models"]


# ------------------------------------------------------------------ inclusion proofs of a batch


@st.composite
def leaf_ranges(draw: Any) -> tuple[int, int, int]:
    size = draw(st.integers(1, 300))
    first = draw(st.integers(0, size))
    return size, first, draw(st.integers(first, size))


@settings(max_examples=150, deadline=None)
@given(leaf_ranges())
def test_a_batch_walk_gives_every_leaf_its_own_proof(where: tuple[int, int, int]) -> None:
    size, first, end = where
    leaves = [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(size)]

    @functools.cache
    def subtree(start: int, stop: int) -> bytes:
        return merkle.root_from_leaf_hashes(leaves[start:stop])

    def asking(into: set[tuple[int, int]]) -> Callable[[int, int], bytes]:
        def ask(start: int, stop: int) -> bytes:
            into.add((start, stop))
            return subtree(start, stop)

        return ask

    asked_once: set[tuple[int, int]] = set()
    asked_each: set[tuple[int, int]] = set()
    got = inclusion_proofs(asking(asked_once), first, end, size)
    expected = [merkle.inclusion_proof_from(asking(asked_each), index, size) for index in range(first, end)]
    assert got == expected
    assert asked_once == asked_each
    root = subtree(0, size)
    for index, proof in zip(range(first, end), got, strict=True):
        merkle.verify_inclusion(leaves[index], index, size, proof, root)


@pytest.mark.parametrize("first, end, size", [(-1, 1, 4), (2, 1, 4), (0, 5, 4)])
def test_leaves_outside_the_tree_have_no_batch_proofs(first: int, end: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proofs(lambda start, stop: b"", first, end, size)


# ------------------------------------------------------------------ claim rows without instances


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[str]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await Tortoise.init(db_url=db_url, modules={"models": MODELS})
    await Tortoise.generate_schemas()
    try:
        yield db_url
    finally:
        await Tortoise.close_connections()


HEX = st.text("0123456789abcdef", min_size=64, max_size=64)
TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00")
WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
CLAIM_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": HEX,
            "claimant": st.text(TEXT, min_size=1, max_size=60).map(lambda text: "did:key:z" + text),
            "kind": st.sampled_from(["work", "voice", "likeness"]),
            "document": st.text(TEXT, max_size=300),
            "received_at": WHEN,
            "log_index": st.integers(0, 2**50),
            "withdrawn_at": st.none(),
            "withdrawal_id": st.none(),
            "withdrawal_log_index": st.none(),
        }
    ),
    min_size=1,
    max_size=12,
    unique_by=(lambda row: row["id"], lambda row: row["log_index"]),
)


def _examples(strategy: st.SearchStrategy[Any], count: int = 25) -> list[Any]:
    """Examples drawn before the test's event loop runs (hypothesis cannot run inside it)."""
    found: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


async def _table(name: str, order: str) -> list[dict[str, Any]]:
    rows = await connections.get("default").execute_query_dict(f'SELECT * FROM "{name}" ORDER BY "{order}"')
    return [dict(row) for row in rows]


async def test_a_claim_row_is_stored_as_bulk_create_stores_it(database: str) -> None:
    for rows in _examples(CLAIM_ROWS):
        await ClaimRecord.bulk_create([ClaimRecord(**row) for row in rows])
        expected = await _table("claims", "id")
        await connections.get("default").execute_script('DELETE FROM "claims"')
        await insert_rows(ClaimRecord, rows)
        assert await _table("claims", "id") == expected
        await connections.get("default").execute_script('DELETE FROM "claims"')


# ------------------------------------------------------------------ a batch's reads in plain SQL


async def test_plain_reads_return_what_the_orm_queries_return(database: str) -> None:
    examples = _examples(st.tuples(ROWS[LogEntry], ROWS[TreeNode], ROWS[UsedNonce], st.integers(-2, 13)))
    log = TransparencyLog("test.example/log", note_signer(keys.SigningKey.generate(), "test.example/log"))
    for entries, nodes, nonces, offset in examples:
        position = max(0, entries[0]["index"] + offset)
        assert await log.size() == 0
        async with in_transaction():
            await insert_rows(LogEntry, entries)
            await insert_rows(TreeNode, nodes)
            await insert_rows(UsedNonce, nonces)
            last = await LogEntry.all().order_by("-index").first().values_list("index", flat=True)
            assert await log.size() == int(str(last)) + 1
        ids = [*(node["id"] for node in nodes[::2]), 2**62 + 1]
        marks = ",".join("?" * len(ids))
        plain = await select_rows(
            TreeNode, f'SELECT "id", "hash" FROM "tree_nodes" WHERE "id" IN ({marks})', ids
        )
        orm = await TreeNode.filter(id__in=ids).values_list("id", "hash")
        assert sorted((int(i), bytes(h)) for i, h in plain) == sorted((int(i), bytes(h)) for i, h in orm)
        wanted = [*(row["nonce"] for row in nonces[1:]), "no such nonce"]
        marks = ",".join("?" * len(wanted))
        sql = f'SELECT "author", "nonce", "document_id" FROM "used_nonces" WHERE "nonce" IN ({marks})'
        plain = await select_rows(UsedNonce, sql, wanted)
        orm = await UsedNonce.filter(nonce__in=wanted).values_list("author", "nonce", "document_id")
        assert sorted(plain) == sorted(tuple(row) for row in orm)
        sql = 'SELECT "index", "entry" FROM "log_entries" WHERE "index" >= ? ORDER BY "index" LIMIT 5'
        plain = await select_rows(LogEntry, sql, [position])
        orm = (
            await LogEntry.filter(index__gte=position)
            .order_by("index")
            .limit(5)
            .values_list("index", "entry")
        )
        assert [(int(i), bytes(e)) for i, e in plain] == [(int(i), bytes(e)) for i, e in orm]
        for table in ("log_entries", "tree_nodes", "used_nonces"):
            await connections.get("default").execute_script(f'DELETE FROM "{table}"')


# ------------------------------------------------------------------ bulks, through the store

#: How each document of a drawn bulk is made: a fresh claim, one filed before in the bulk again,
#: another claim under an earlier claim's nonce, a tampered claim, one signed too long ago, not JSON.
KINDS = ["fresh", "fresh", "fresh", "again", "nonce", "tampered", "old", "garbage"]
BULKS = st.lists(st.sampled_from(KINDS), min_size=1, max_size=30)


class ReferenceStore(ClaimStore):
    """The claim store as it wrote its rows before: one `ClaimRecord` instance per claim."""

    def _claim_row(self, accepted: Accepted[Claim], now: datetime) -> Callable[[Appended], list[Any]]:
        def rows(appended: Appended) -> list[Any]:
            self._appended[appended.index] = (accepted.id, accepted.model)
            return [
                ClaimRecord(
                    id=accepted.id,
                    claimant=accepted.author,
                    kind=accepted.model.subject.kind,
                    document=accepted.canonical.decode("utf-8"),
                    received_at=now,
                    log_index=appended.index,
                )
            ]

        return rows


def _bulk(kinds: list[str], key: keys.SigningKey, now: datetime, serial: int) -> list[bytes]:
    raws: list[bytes] = []
    claims: list[dict[str, Any]] = []
    for number, kind in enumerate(kinds):
        url = f"https://site{number % 5}.example/{serial}/{number}/"
        claim = signed_claim(key, now, urls=(url,))
        if kind == "again" and claims:
            raws.append(keys.canonicalize(claims[number % len(claims)]))
        elif kind == "nonce" and claims:
            earlier = claims[number % len(claims)]
            unsigned = {name: value for name, value in claim.items() if name != "proof"}
            unsigned["nonce"] = earlier["nonce"]
            raws.append(keys.canonicalize(keys.sign_document(unsigned, key, created=now)))
        elif kind == "tampered":
            tampered = copy.deepcopy(claim)
            tampered["uses"] = {"train-ai": "y"}
            raws.append(keys.canonicalize(tampered))
        elif kind == "old":
            raws.append(keys.canonicalize(signed_claim(key, now - timedelta(days=3), urls=(url,))))
        elif kind == "garbage":
            raws.append(b'{"type": "Claim", "type": "Claim"}')
        else:
            claims.append(claim)
            raws.append(keys.canonicalize(claim))
    return raws


def _seen(outcome: dict[str, Any] | RegistryError) -> tuple[Any, ...]:
    """What a filer is told, but where the batch fell (its tree size, proof and checkpoint)."""
    if isinstance(outcome, RegistryError):
        return (type(outcome).__name__, str(outcome))
    receipt = outcome["log"]
    return (
        outcome["id"],
        outcome["received_at"],
        tuple(outcome["keys"]),
        receipt["index"],
        receipt["leaf_hash"],
    )


async def _file(
    url: str, key: keys.SigningKey, bulks: list[list[bytes]], now: datetime, *, reference: bool
) -> tuple[list[list[tuple[Any, ...]]], list[list[dict[str, Any]]]]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await Tortoise.init(db_url=url, modules={"models": MODELS})
    await Tortoise.generate_schemas()
    try:
        log = TransparencyLog("test.example/log", note_signer(key, "test.example/log"))
        store = (ReferenceStore if reference else ClaimStore)(log, key, clock=lambda: now)
        seen: list[list[tuple[Any, ...]]] = []
        for raws in bulks:
            outcomes = await store.file_claims(raws)
            seen.append([_seen(outcome) for outcome in outcomes])
            for outcome in outcomes:
                if isinstance(outcome, dict):
                    receipt = outcome["log"]
                    proof = [_b64(node) for node in receipt["inclusion_proof"]]
                    root = await log.root(receipt["tree_size"])
                    merkle.verify_inclusion(
                        _b64(receipt["leaf_hash"]), receipt["index"], receipt["tree_size"], proof, root
                    )
                    assert receipt["checkpoint"] == log.checkpoint_note(receipt["tree_size"], root)
        tables = [
            await _table("log_entries", "index"),
            await _table("claims", "id"),
            [
                {name: value for name, value in row.items() if name != "id"}
                for row in await _table(UsedNonce._meta.db_table, "id")
            ],
        ]
        assert LogEntry._meta.db_table == "log_entries"
        return seen, tables
    finally:
        await Tortoise.close_connections()


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


@pytest.fixture
async def second_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Another fresh database of the same engine as `db_url`."""
    if db_url.startswith("sqlite://"):
        return f"sqlite://{tmp_path / 'reference.sqlite3'}"
    return await _create_database(request.getfixturevalue("postgres_server"))


async def test_bulks_filed_with_plain_rows_tell_each_filer_what_the_reference_tells(
    db_url: str, second_db_url: str, alice: keys.SigningKey
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    bulks = [_bulk(kinds, alice, now, serial) for serial, kinds in enumerate(_examples(BULKS, count=12))]
    bulks.append(_bulk(["fresh"] * 40 + ["again", "nonce"] * 5, alice, now, len(bulks)))
    reference = await _file(second_db_url, alice, bulks, now, reference=True)
    fast = await _file(db_url, alice, bulks, now, reference=False)
    assert fast[0] == reference[0]
    assert fast[1] == reference[1]
    assert any(isinstance(seen[0], str) and len(seen[0]) == 64 for run in fast[0] for seen in run)


# ------------------------------------------------------------------ the index, from what was accepted

IDENTIFIERS = st.lists(
    st.one_of(
        st.integers(0, 40).map(lambda n: ("url", f"https://www.site{n % 7}.example/p/{n}/")),
        st.binary(min_size=32, max_size=32).map(lambda digest: ("sha256", digest.hex())),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(IDENTIFIERS, st.sampled_from(["right", "wrong", "none"])), min_size=1, max_size=8))
def test_applying_the_accepted_claim_builds_the_index_parsing_builds(
    claims: list[tuple[list[tuple[str, str]], str]],
) -> None:
    alice = keys.SigningKey.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    parsed, known = ClaimIndex(keep_parts=True), ClaimIndex(keep_parts=True)
    entries: list[bytes] = []
    for position, (identifiers, how) in enumerate(claims):
        document = signed_claim(alice, now, urls=(), identifiers=identifiers)
        entry = keys.canonicalize(document)
        entries.append(entry)
        model = Claim.model_validate(document)
        claim_id = keys.document_id(document)
        given_id = {"right": claim_id, "wrong": "0" * 64, "none": None}[how]
        parsed.apply(position, entry)
        known.apply(position, entry, None if given_id is None else (given_id, model))
    assert known.position == parsed.position == len(entries)
    for name in ("_refs", "_views", "_exact", "_url_paths", "_filed_at", "_facts"):
        assert getattr(known, name) == getattr(parsed, name), name
    assert [row[:2] for row in known.snapshot_rows()] == [row[:2] for row in parsed.snapshot_rows()]
