"""The registry writes the JSON sections of the snapshots it assembles without `keys.canonicalize`'s
value-by-value check (`plain_json`): the bytes must be exactly what that reference writes, for any
log, any script in names and licences, and through the merges a delta applies."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keys
from registry import snapshot
from registry.index import ClaimIndex
from tests.factories import signed_claim
from tests.registry.test_snapshot_parts import KEYS, NOW, SPACES, assert_same_sections, logs

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12
).map(lambda text: __import__("unicodedata").normalize("NFC", text))


def reference(data: snapshot.SnapshotData) -> snapshot.SnapshotData:
    """The same data written through `keys.canonicalize`, as data read from a file is."""
    return dataclasses.replace(data, plain_json=False)


def index_of(entries: list[dict[str, Any]]) -> ClaimIndex:
    index = ClaimIndex(SPACES, keep_parts=True)
    for number, entry in enumerate(entries):
        index.apply(number, keys.canonicalize(entry))
    return index


@st.composite
def licensed(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Claims with names and licence contacts in any script (astral planes included)."""
    entries = []
    for number in range(draw(st.integers(1, 6))):
        contact = draw(TEXT).strip() or "x"
        claim = signed_claim(
            KEYS[number % len(KEYS)],
            NOW + timedelta(seconds=number),
            urls=(f"https://site{number}.example/",),
            identifiers=[
                ("name", f"{draw(st.sampled_from(['山田花子', '𠮷野 家', 'Zoë', 'ﾅﾏｴ']))} {number}")
            ],
            licence={"contact": contact},
        )
        entries.append(claim)
    return entries


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_plain_sections_are_the_canonical_ones(entries: list[dict[str, Any]]) -> None:
    data = snapshot.assemble(index_of(entries).snapshot_rows())
    assert data.plain_json
    assert_same_sections(data, reference(data))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(licensed())
def test_any_script_in_names_and_licences(entries: list[dict[str, Any]]) -> None:
    data = snapshot.assemble(index_of(entries).snapshot_rows())
    assert_same_sections(data, reference(data))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), logs())
def test_merges_keep_the_bytes(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> None:
    mine = snapshot.assemble(index_of(first).snapshot_rows())
    theirs = snapshot.assemble(index_of(second).snapshot_rows())
    gone = mine.ids[:1]
    merged = mine.without(gone).plus(theirs)
    assert merged.plain_json
    assert_same_sections(merged, reference(merged))
    read = reference(mine)  # as a client holds a file's data: checked on every write
    assert not read.without(gone).plus(theirs).plain_json
