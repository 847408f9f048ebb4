"""`kotowari claim list` and `claim withdraw` (one, `--all-matching`, `--from`) through the real CLI
against a real server process; and the property that a listing's pages, concatenated, are exactly
the filtered set, for any filters and page size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keys
from crawler_client import Client
from crawler_client.cli import main
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import signed_claim, signed_withdrawal

NAMES = ("Aoi Sato", "Ren Kato", "山田花子", "鈴木一郎")


@dataclass(frozen=True)
class Filed:
    id: str
    claimant: str
    kind: str
    site: int
    path: int | None  # None: the whole site
    name: str | None
    withdrawn: bool

    def matches_url(self, site: int, path: int) -> bool:
        """What a check of https://site{site}.example/p{path}/x.png matches."""
        return self.site == site and self.path in (None, path)


@dataclass
class World:
    server: ServerProcess
    keys: list[keys.SigningKey]
    filed: list[Filed]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A registry holding 40 claims by three claimants over three sites, some withdrawn."""
    server = start_server(tmp_path_factory.mktemp("list-registry"))
    signers = [keys.SigningKey.generate() for _ in range(3)]
    now = datetime.now(UTC)
    filed: list[Filed] = []
    try:
        with Client(server.url) as client:
            for n in range(40):
                key, kind = signers[n % 3], ("work", "voice", "likeness")[n % 4 % 3]
                site, path = n % 3, (None if n % 5 == 0 else n % 4)
                name = NAMES[n % 4] if n % 2 else None
                url = f"https://site{site}.example/" + ("" if path is None else f"p{path}/")
                identifiers = [("name", name)] if name else []
                claim = signed_claim(key, now, urls=(url,), kind=kind, identifiers=identifiers)
                (receipt,) = client.file_claims([claim])
                assert receipt["status"] == 201, receipt
                withdrawn = n % 7 == 3
                if withdrawn:
                    client.withdraw_claim(receipt["id"], signed_withdrawal(key, receipt["id"], now))
                filed.append(Filed(receipt["id"], key.did, kind, site, path, name, withdrawn))
        yield World(server, signers, filed)
    finally:
        stop_server(server)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def listed(capsys: pytest.CaptureFixture[str], world: World, *filters: str) -> list[dict[str, Any]]:
    status, out, err = run(capsys, "claim", "list", "--registry", world.server.url, "--json", *filters)
    assert status == 0, err
    claims: list[dict[str, Any]] = json.loads(out)
    assert err.strip() == f"{len(claims)} claim(s)"
    return claims


def ids(claims: list[dict[str, Any]]) -> list[str]:
    return [claim["id"] for claim in claims]


def test_every_filter_through_the_cli(world: World, capsys: pytest.CaptureFixture[str], in_tmp: Path):
    everything = [f.id for f in world.filed]
    assert ids(listed(capsys, world)) == everything  # log order
    alice = world.keys[0]
    keys.write_key_file(in_tmp / "alice.key", alice)
    by_key = listed(capsys, world, "--key", "alice.key")
    assert ids(by_key) == [f.id for f in world.filed if f.claimant == alice.did]
    assert ids(listed(capsys, world, "--claimant", alice.did)) == ids(by_key)
    assert ids(listed(capsys, world, "--kind", "voice")) == [f.id for f in world.filed if f.kind == "voice"]
    assert ids(listed(capsys, world, "--status", "withdrawn")) == [f.id for f in world.filed if f.withdrawn]
    active = listed(capsys, world, "--status", "active")
    assert ids(active) == [f.id for f in world.filed if not f.withdrawn]
    assert all(claim["authority"] == ["self-asserted"] for claim in active)
    by_url = listed(capsys, world, "--url", "https://WWW.site1.example/p2/x.png")
    assert ids(by_url) == [f.id for f in world.filed if f.matches_url(1, 2)]
    assert all(claim["matches"][0]["match"] == "url" for claim in by_url)
    by_name = listed(capsys, world, "--name", "山田 花子")
    assert ids(by_name) == [f.id for f in world.filed if f.name == "山田花子"]
    assert ids(listed(capsys, world, "--page-size", "3", "--kind", "work")) == ids(
        listed(capsys, world, "--kind", "work")
    )

    status, out, _ = run(
        capsys, "claim", "list", "--registry", world.server.url, "--kind", "voice", "--status", "active"
    )
    voice = [f for f in world.filed if f.kind == "voice" and not f.withdrawn]
    assert status == 0 and len(out.splitlines()) == len(voice)
    assert out.splitlines()[0].startswith(f"{voice[0].id}  active    voice ") and "[self-asserted]" in out


def test_a_url_filter_finds_what_a_check_finds(world: World):
    with Client(world.server.url) as client:
        for site, path in [(0, 1), (2, 3), (1, 0)]:
            url = f"https://site{site}.example/p{path}/x.png"
            answer = client.check([{"scheme": "url", "value": url}], purpose="train-ai")
            checked = {match["claim"] for match in answer.items[0]["matches"]}
            assert {c["id"] for c in client.list_claims(url=url, status="active")} == checked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    claimant=st.none() | st.integers(0, 2),
    kind=st.none() | st.sampled_from(["work", "voice", "likeness"]),
    status=st.none() | st.sampled_from(["active", "withdrawn"]),
    where=st.none() | st.tuples(st.integers(0, 2), st.integers(0, 3)),
    name=st.none() | st.sampled_from(NAMES),
    limit=st.integers(1, 12),
)
def test_pages_concatenated_are_the_filtered_set(
    world: World,
    claimant: int | None,
    kind: str | None,
    status: str | None,
    where: tuple[int, int] | None,
    name: str | None,
    limit: int,
):
    params: dict[str, Any] = {"limit": limit}
    if claimant is not None:
        params["claimant"] = world.keys[claimant].did
    if kind is not None:
        params["kind"] = kind
    if status is not None:
        params["status"] = status
    if where is not None:
        params["url"] = f"https://site{where[0]}.example/p{where[1]}/x.png"
    if name is not None:
        params["name"] = name.upper()
    expected = [
        f.id
        for f in world.filed
        if (claimant is None or f.claimant == world.keys[claimant].did)
        and (kind is None or f.kind == kind)
        and (status is None or f.withdrawn == (status == "withdrawn"))
        and (where is None or f.matches_url(*where))
        and (name is None or f.name == name)
    ]
    seen: list[str] = []
    pages = 0
    with httpx.Client(base_url=world.server.url) as http:
        answer = http.get("/v1/claims", params=params).json()
        while True:
            pages += 1
            assert len(answer["claims"]) <= limit
            seen += [claim["id"] for claim in answer["claims"]]
            if answer["next"] is None:
                break
            assert len(answer["claims"]) == limit
            answer = http.get(answer["next"]).json()
    assert seen == expected
    assert pages == max(1, -(-len(expected) // limit))  # no empty last page


def test_bad_listing_flags_are_one_line_and_exit_2(world: World, capsys: pytest.CaptureFixture[str]):
    url = world.server.url
    for argv, needle in [
        (["--claimant", "alice"], "claimant"),
        (["--url", "ftp://example.com/"], "url"),
        (["--name", "・・・"], "name"),
        (["--page-size", "0"], "--page-size"),
        (["--page-size", "1001"], "--page-size"),
        (["--key", "missing.key"], "missing.key"),
    ]:
        status, _, err = run(capsys, "claim", "list", "--registry", url, *argv)
        assert status == 2 and needle in err.strip().splitlines()[-1], (argv, err)
    with pytest.raises(SystemExit) as exit_:
        main(["claim", "list", "--registry", url, "--claimant", "did:key:z6Mk", "--key", "k.key"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["claim", "list", "--registry", url, "--status", "gone"])
    assert exit_.value.code == 2


def test_withdrawing_many_asks_first_then_withdraws_and_a_rerun_is_harmless(
    world: World, capsys: pytest.CaptureFixture[str], in_tmp: Path
):
    agency = keys.SigningKey.generate()
    keys.write_key_file(in_tmp / "agency.key", agency)
    rows = "".join(f"voice,https://withdraw.example/{n}/,Member {n},train-ai\n" for n in range(6))
    (in_tmp / "members.csv").write_text("kind,url,name,deny\n" + rows, encoding="utf-8")
    registry = ["--key", "agency.key", "--registry", world.server.url]
    assert run(capsys, "claim", "import", "members.csv", *registry)[0] == 0
    filed = [
        json.loads(line)["id"] for line in (in_tmp / "members.csv.receipts.jsonl").read_text().splitlines()
    ]

    # --all-matching: your own claims matching the filters; standard input is no terminal here
    matching = ["claim", "withdraw", "--all-matching", "--url", "https://withdraw.example/2/a.wav", *registry]
    status, _, err = run(capsys, *matching)
    assert status == 2 and "1 claim(s) matching would be withdrawn, permanently: confirm with --yes" in err
    status, out, _ = run(capsys, *matching, "--yes")
    assert status == 0 and out.strip() == "withdrew 1, already withdrawn 0, failed 0"
    status, out, _ = run(capsys, *matching, "--yes")
    assert status == 0 and out.strip() == "no claims matching: nothing to withdraw"

    # --from: the receipts of the import (one already withdrawn), then a plain list of ids
    status, out, _ = run(
        capsys, "claim", "withdraw", "--from", "members.csv.receipts.jsonl", *registry, "--yes"
    )
    assert status == 0 and out.strip() == "withdrew 5, already withdrawn 1, failed 0"
    (in_tmp / "ids.txt").write_text("# claims to withdraw\n" + "\n".join(filed[:2]) + "\n", encoding="utf-8")
    status, out, _ = run(capsys, "claim", "withdraw", "--from", "ids.txt", *registry, "--yes", "--json")
    assert status == 0 and json.loads(out)["already_withdrawn"] == filed[:2]
    with Client(world.server.url) as client:
        assert {c["status"] for c in client.list_claims(claimant=agency.did)} == {"withdrawn"}

    # somebody else's claims: refused one by one, exit 1
    (in_tmp / "theirs.txt").write_text(world.filed[0].id + "\n", encoding="utf-8")
    status, out, err = run(capsys, "claim", "withdraw", "--from", "theirs.txt", *registry, "--yes")
    assert status == 1 and "failed 1" in out and "not-claimant" not in out and world.filed[0].id in err


def test_withdraw_refuses_what_it_cannot_do_in_one_line(
    world: World, capsys: pytest.CaptureFixture[str], in_tmp: Path
):
    keys.write_key_file(in_tmp / "me.key", keys.SigningKey.generate())
    registry = ["--key", "me.key", "--registry", world.server.url]
    (in_tmp / "bad.txt").write_text("0" * 64 + "\nnot an id\n", encoding="utf-8")
    for argv, needle in [
        ([], "say what to withdraw"),
        (["0" * 64, "--all-matching"], "say what to withdraw"),
        (["0" * 64, "--url", "https://example.com/"], "choose claims for --all-matching"),
        (["--from", "missing.txt"], "missing.txt"),
        (["--from", "bad.txt"], "bad.txt line 2"),
        (["--all-matching", "--claimant", "bob"], "claimant"),
    ]:
        status, _, err = run(capsys, "claim", "withdraw", *argv, *registry)
        assert status == 2 and needle in err.strip().splitlines()[-1], (argv, err)
    status, _, err = run(capsys, "claim", "withdraw", "0" * 64, *registry)
    assert status == 2 and "404" in err


async def test_the_async_client_pages_through_the_same_claims(world: World):
    from crawler_client import AsyncClient

    async with AsyncClient(world.server.url) as client:
        found = [claim["id"] async for claim in client.list_claims(kind="work", page_size=4)]
    assert found == [f.id for f in world.filed if f.kind == "work"]


def test_a_listed_claim_that_does_not_verify_is_refused(world: World):
    import httpx as httpx_module

    from crawler_client.errors import InvalidSignedAnswer

    def tampered(request: httpx_module.Request) -> httpx_module.Response:
        answer = httpx_module.get(str(request.url).replace("http://registry.test", world.server.url)).json()
        if request.url.path == "/v1/claims":
            answer["claims"][0]["document"]["uses"] = {"train-ai": "y"}
        return httpx_module.Response(200, json=answer)

    with Client("http://registry.test", transport=httpx_module.MockTransport(tampered)) as client:
        with pytest.raises(InvalidSignedAnswer, match="does not verify"):
            list(client.list_claims())
        unverified = [claim["id"] for claim in client.list_claims(verify=False)]
    with Client(world.server.url) as honest:
        assert unverified == [claim["id"] for claim in honest.list_claims()]  # other tests file too
