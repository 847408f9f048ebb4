"""The snapshot reads by path (`/v1/snapshots/latest`, `/full/{M}`, `/delta/{N}-{M}`): the layout a
static copy (`kotowari publish`) serves, answered by the live registry too, beside `?since=N`."""

from __future__ import annotations

import httpx
import pytest

import keys
from registry.snapshot import apply_delta, encode_full, read_delta, read_full
from registry.snapshot_data import InvalidSnapshot
from registry.snapshot_file import tree_size_of
from tests.api.test_claims_api import assert_problem
from tests.api.test_snapshot_api import filed
from tests.conftest import Clock


async def test_the_pointer_names_the_current_size_and_its_paths_serve_it(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    await filed(api, alice, clock, urls=("https://example.com/a/",))
    first = (await api.get("/v1/snapshot")).content
    await filed(api, alice, clock, urls=("https://example.com/b/",))

    pointer = await api.get("/v1/snapshots/latest")
    assert pointer.status_code == 200 and pointer.headers["cache-control"] == "no-cache"
    assert pointer.json() == {
        "tree_size": 2,
        "snapshot": "/v1/snapshots/full/2",
        "delta": "/v1/snapshots/delta/{since}-2",
    }
    full = await api.get("/v1/snapshots/full/2")
    assert full.status_code == 200 and full.headers["content-type"] == "application/vnd.kotowari.snapshot"
    assert full.content == (await api.get("/v1/snapshot")).content

    delta = await api.get("/v1/snapshots/delta/1-2")
    assert delta.status_code == 200
    old_state, old_data = read_full(first)
    merged = apply_delta(old_data, read_delta(delta.content))
    assert encode_full(read_delta(delta.content).state, merged) == full.content
    assert old_state.tree_size == 1


async def test_paths_naming_another_size_or_no_size_are_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    await filed(api, alice, clock, urls=("https://example.com/a/",))
    assert_problem(await api.get("/v1/snapshots/full/0"), 404, "not-found")
    assert_problem(await api.get("/v1/snapshots/full/7"), 404, "not-found")
    assert_problem(await api.get("/v1/snapshots/delta/0-7"), 404, "not-found")
    assert_problem(await api.get("/v1/snapshots/delta/2-1"), 400, "invalid-parameter")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/snapshots/full/x",
        "/v1/snapshots/full/-1",
        "/v1/snapshots/full/01",
        "/v1/snapshots/full/99999999999999999999",
        "/v1/snapshots/delta/1",
        "/v1/snapshots/delta/a-1",
        "/v1/snapshots/delta/0-",
        "/v1/snapshots/delta/0-1-2",
    ],
)
async def test_malformed_sizes_are_invalid_parameters(api: httpx.AsyncClient, path: str) -> None:
    assert_problem(await api.get(path), 400, "invalid-parameter")


async def test_since_in_the_query_is_unchanged(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    await filed(api, alice, clock, urls=("https://example.com/a/",))
    delta = read_delta((await api.get("/v1/snapshot", params={"since": 0})).content)
    assert (delta.since, delta.state.tree_size) == (0, 1)
    assert_problem(await api.get("/v1/snapshot", params={"since": "x"}), 400, "invalid-parameter")


def framed(magic: bytes, header: bytes) -> bytes:
    return magic + len(header).to_bytes(4, "big") + header


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"junk", "bad magic"),
        (b"KTWSNAP1" + (99).to_bytes(4, "big") + b"{}", "truncated header"),
        (framed(b"KTWSNAP1", b"[]"), "not a JSON object"),
        (framed(b"KTWSNAP1", b"{}"), "no tree size"),
        (framed(b"KTWDLTA1", b'{"tree_size":3}'), "no tree size"),  # a delta's is in its state
        (framed(b"KTWSNAP1", b'{"tree_size":"x"}'), "no tree size"),
    ],
)
def test_a_header_without_a_tree_size_is_refused(raw: bytes, said: str) -> None:
    with pytest.raises(InvalidSnapshot, match=said):
        tree_size_of(raw)


def test_the_tree_size_is_read_from_either_kind_of_header() -> None:
    assert tree_size_of(framed(b"KTWSNAP1", b'{"tree_size":7}')) == 7
    assert tree_size_of(framed(b"KTWDLTA1", b'{"state":{"tree_size":9}}')) == 9
