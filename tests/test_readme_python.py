"""Every ```python block of the README runs here, as written, against a real registry process.

A block is run with `exec` after two textual substitutions only: the README's registry URL becomes
the test registry's, and paths the reader would have (`/data/…`, `s3://…`) become files made here.
Names a block takes from the reader's own program (`urls`, `hashes`) are given to it, and
what it computes is then checked. `test_every_block_is_run` fails when a block is added to the
README without a runner here (or, for a block that needs Spark, DuckDB or Ray, in that engine's
test module, `RUN_ELSEWHERE`), so no example can rot unseen.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import keys
from crawler_client import Client
from crawler_client.cli import main as kotowari
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.readme import README, README_REGISTRY
from tests.factories import signed_claim

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(tmp_path_factory.mktemp("readme-registry"))
    try:
        yield running
    finally:
        stop_server(running)


def run(block: str, registry: ServerProcess, given: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    code = block.replace(README_REGISTRY, registry.url)
    for written, local in paths.items():
        code = code.replace(written, local)
    namespace: dict[str, Any] = {"__name__": "readme_example", **given}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace


def bulk_filing(block: str, registry: ServerProcess, tmp_path: Path) -> None:
    done = run(block, registry, {}, {})
    assert len(done["filed"]) == 3 and done["refused"] == []
    with Client(registry.url) as client:
        for claim_id in done["filed"]:
            assert client.get_claim(claim_id)["status"] == "active"


def developer_check(block: str, registry: ServerProcess, tmp_path: Path) -> None:
    creator = keys.SigningKey.generate()
    with Client(registry.url) as client:
        client.file_claim(signed_claim(creator, datetime.now(UTC), urls=("https://readme.example/art/",)))
    urls = ["https://readme.example/art/1.png", "https://elsewhere.example/2.png"]
    hashes = ["ab" * 32]
    done = run(block, registry, {"urls": urls, "hashes": hashes}, {"kotowari-pins.json": str(tmp_path / "p")})
    assert done["keep"] == urls[1:] + hashes
    assert done["evidence"] and all("proof" in answer for answer in done["evidence"])


README_POLICY = 'Policy(Client("http://127.0.0.1:8000"))'


def guarded_fetch(block: str, registry: ServerProcess, tmp_path: Path) -> None:
    """As written, with example.com made the local test site (on 127.0.0.1): the address guard refuses
    loopback and the refusal explains itself; then with `allow_private=True` on the Policy, as the
    README says, the registry's reservation refuses instead, before the picture is requested."""
    from tests.crawler_client.policy.conftest import _started

    site = _started()
    site.reset()
    site.route("/art/a.jpg", b"\xff\xd8\xff\xe0 not really a picture", headers={"Content-Type": "image/jpeg"})
    creator = keys.SigningKey.generate()
    with Client(registry.url) as client:
        client.file_claim(
            signed_claim(creator, datetime.now(UTC), urls=(site.url("/art/"),), deny=("train-ai",))
        )
    paths = {"https://example.com": site.base}

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run(block, registry, {}, paths)
    assert printed.getvalue().startswith(f"disallowed: {site.url('/art/a.jpg')} for train-ai: address: ")
    assert "127.0.0.1 is a loopback address; pass allow_private to fetch it" in printed.getvalue()
    assert site.paths() == []  # not even robots.txt

    assert README_POLICY in block, "the README's Policy line changed: update this runner"
    private = block.replace(README_POLICY, README_POLICY[:-1] + ", allow_private=True)")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run(private, registry, {}, paths)
    assert printed.getvalue().startswith(f"disallowed: {site.url('/art/a.jpg')} for train-ai: registry: ")
    assert "/robots.txt" in site.paths() and "/art/a.jpg" not in site.paths()
    logged = [json.loads(line) for line in (tmp_path / "crawl.jsonl").read_text().splitlines()]
    assert [entry["event"] for entry in logged] == ["refused", "pre-fetch"]
    site.reset()


def generation_guard(block: str, registry: ServerProcess, tmp_path: Path) -> None:
    """The Starlette app as written, over a snapshot pulled from the test registry (files in the
    working directory, as the block names them): a prompt naming a registered voice in another
    spelling is refused (451) saying why, another is generated, an empty one is a 422 with the reason;
    each answered request leaves a signed record that verifies against its prompt."""
    import asyncio

    import httpx

    from crawler_client import verify_guard_record

    creator = keys.SigningKey.generate()
    voice = [{"scheme": "name", "value": "Kōichi Yamadera"}]
    with Client(registry.url) as client:
        claim = signed_claim(
            creator, datetime.now(UTC), urls=(), kind="voice", identifiers=voice, deny=("generate",)
        )
        claim_id = client.file_claim(claim)["id"]
    assert kotowari(["snapshot", "pull", "--registry", registry.url, "--out", "claims.snapshot"]) == 0
    keys.write_key_file(tmp_path / "operator.key", operator := keys.SigningKey.generate())
    done = run(block, registry, {"my_model": lambda prompt: f"generated: {prompt}"}, {})
    prompts = ["in the voice of Kouichi Yamadera", "a calm narrator reads the weather", ""]

    async def requests() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=done["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [await http.post("/generate", json={"prompt": prompt}) for prompt in prompts]

    refused, generated, bad = asyncio.run(requests())
    done["records"].close()
    assert refused.status_code == 451 and "'Kōichi Yamadera'" in refused.json()["refused"][0]
    assert generated.json() == {"output": "generated: " + prompts[1]}
    assert bad.status_code == 422 and "empty" in bad.json()["error"]
    kept = [json.loads(line) for line in (tmp_path / "guard-records.jsonl").read_text().splitlines()]
    assert [
        verify_guard_record(record, prompt=prompt, operator=operator.did).decision
        for record, prompt in zip(kept, prompts, strict=False)
    ] == ["n", "unknown"]
    assert kept[0]["matches"][0]["claim"] == claim_id


RUNNERS: dict[str, Callable[[str, ServerProcess, Path], None]] = {
    "registry.file_claims(": bulk_filing,
    "registry.check(": developer_check,
    "GuardedTransport(": guarded_fetch,
    "run_in_threadpool(guard.check": generation_guard,
}
"""Each README block, by a phrase only it contains, and what runs it."""


RUN_ELSEWHERE: dict[str, str] = {
    "mapInArrow": "tests/crawler_client/test_engines_spark.py",
    "to_arrow_reader(": "tests/crawler_client/test_engines_duckdb.py",
    "map_batches(": "tests/crawler_client/test_engines_ray.py",
}
"""Blocks that need an engine (a JVM, a Ray cluster) run in that engine's own test module."""


def _runner(block: str) -> Callable[[str, ServerProcess, Path], None] | str | None:
    found: list[Callable[[str, ServerProcess, Path], None] | str] = [
        runner for phrase, runner in RUNNERS.items() if phrase in block
    ]
    found += [module for phrase, module in RUN_ELSEWHERE.items() if phrase in block]
    assert len(found) <= 1, f"a README block matches several runners:\n{block}"
    return found[0] if found else None


def test_every_block_is_run() -> None:
    blocks = python_blocks()
    assert blocks, "the README has Python examples"
    missing = [block for block in blocks if _runner(block) is None]
    assert not missing, f"README Python blocks nobody runs:\n{missing[0]}"
    root = Path(__file__).resolve().parents[1]
    for phrase, module in RUN_ELSEWHERE.items():
        assert f'readme_block("{phrase}")' in (root / module).read_text(encoding="utf-8"), module


@pytest.mark.parametrize("phrase", list(RUNNERS))
def test_readme_block(
    phrase: str, registry: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = [block for block in python_blocks() if phrase in block]
    assert len(blocks) == 1, f"one README block contains {phrase!r}"
    RUNNERS[phrase](blocks[0], registry, tmp_path)
