"""`kotowari publish`: a real registry's reads written as static files, served by Python's
`http.server` and by Debian's nginx, and read by the client, `snapshot pull`, `log verify` and
`log audit` exactly as they read the live registry; the tree follows the log (`--watch`) writing
only what changed; tampering with a published file is caught."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import keys
from crawler_client.audit.tiles import tile_path
from crawler_client.client import Client
from crawler_client.static_reads import DeltaUnavailable, StaticCopy
from registry.snapshot import apply_delta, encode_full, read_delta, read_full
from tests.conftest import ServerProcess, free_port, kotowari_command, start_server, stop_server
from tests.crawler_client.cli_harness import run_process
from tests.crawler_client.static_servers import nginx_server, python_http_server, readable_tree
from tests.crawler_client.test_audit import populate
from tests.crawler_client.test_walkthrough import kotowari
from tests.factories import body, signed_claim

IMMUTABLE = "public, max-age=31536000, immutable"


def file_many(url: str, count: int, site: str) -> None:
    """`count` claims in one bulk filing."""
    key, now = keys.SigningKey.generate(), datetime.now(UTC).replace(microsecond=0)
    claims = [signed_claim(key, now, urls=(f"https://{site}/{n}/",)) for n in range(count)]
    answer = httpx.post(f"{url}/v1/claims", content=body(claims), timeout=60).json()
    assert answer["filed"] == count, answer


def size_of(note: str) -> int:
    return int(note.split("\n")[1])


@dataclass
class Published:
    server: ServerProcess
    tree: Path
    work: Path

    @property
    def live(self) -> str:
        return self.server.url


def publishing(tmp_path_factory: pytest.TempPathFactory, name: str, extra: int) -> Generator[Published]:
    """A registry with more than a full tile of entries (and withdrawals, disputes, mandates),
    published once into a tree an unprivileged nginx can read."""
    work = tmp_path_factory.mktemp(name)
    server = start_server(work / "data")
    tree = readable_tree()
    try:
        file_many(server.url, 256 + extra, f"{name}.example")
        populate(server.url)
        kotowari("publish", "--registry", server.url, "--out", str(tree), cwd=work)
        yield Published(server, tree, work)
    finally:
        stop_server(server)
        shutil.rmtree(tree, ignore_errors=True)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """Read-only for its tests (`grown` is the one that files more)."""
    yield from publishing(tmp_path_factory, "published", 3)


@pytest.fixture(scope="module", params=["http.server", "nginx"])
def static(request: pytest.FixtureRequest, published: Published) -> Iterator[str]:
    serve = python_http_server if request.param == "http.server" else nginx_server
    with serve(published.tree) as url:
        yield url


def files(tree: Path, under: str) -> list[Path]:
    return sorted(p for p in (tree / under).rglob("*") if p.is_file())


# ---------------------------------------------------------------------- the published tree


def test_the_tree_is_the_live_registrys_reads_byte_for_byte(published: Published) -> None:
    tiles = files(published.tree, "log/tile")
    assert {p.relative_to(published.tree).as_posix() for p in tiles} >= {
        "log/tile/0/000",
        "log/tile/entries/000",
        "log/tile/1/000.p/1",
    }
    for path in tiles:
        served = httpx.get(f"{published.live}/{path.relative_to(published.tree).as_posix()}")
        assert served.status_code == 200 and served.content == path.read_bytes(), path
    checkpoint = (published.tree / "log/checkpoint").read_text()
    assert checkpoint == httpx.get(f"{published.live}/log/checkpoint").text
    live = httpx.get(f"{published.live}/v1/registry").json()
    info = json.loads((published.tree / "v1/registry").read_text())
    assert info["static"]["tree_size"] == size_of(checkpoint)
    assert {k: v for k, v in info.items() if k != "static"} == live
    size = size_of(checkpoint)
    latest = json.loads((published.tree / "v1/snapshots/latest").read_text())
    assert latest["tree_size"] == size and latest["deltas_from"] == [size]
    full = (published.tree / f"v1/snapshots/full/{size}").read_bytes()
    assert full == httpx.get(f"{published.live}/v1/snapshot").content
    assert not list(published.tree.rglob(".*")), "no temporary file is left behind"


def test_publishing_again_writes_nothing(published: Published) -> None:
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files(published.tree, "")}
    out = kotowari("publish", "--registry", published.live, "--out", str(published.tree), cwd=published.work)
    assert ": 0 files written" in out.stdout
    assert before == {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files(published.tree, "")}


def test_a_bounded_round_writes_no_checkpoint_until_the_tree_is_whole(
    published: Published, tmp_path: Path
) -> None:
    from crawler_client.publish import Publisher

    rounds = []
    with Publisher(published.live, tmp_path / "tree", max_files=1) as publisher:
        while not (rounds and rounds[-1].complete):
            rounds.append(publisher.publish())
            if not rounds[-1].complete:
                assert not (tmp_path / "tree/log/checkpoint").exists()
                assert (
                    len([w for w in rounds[-1].written if "/full/" not in w]) <= 1
                    and "the next round continues" in rounds[-1].notes[0]
                )
    assert len(rounds) > 4
    whole = {p.relative_to(published.tree) for p in files(published.tree, "") if p.name != "_nginx.conf"}
    assert {p.relative_to(tmp_path / "tree") for p in files(tmp_path / "tree", "")} - {
        Path("_nginx.conf")
    } == whole
    for path in whole:
        if path.parts[0] == "log":
            assert (tmp_path / "tree" / path).read_bytes() == (published.tree / path).read_bytes()


def test_snapshot_pull_from_a_static_server_gives_the_live_snapshot(
    published: Published, static: str, tmp_path: Path
) -> None:
    out = kotowari("snapshot", "pull", "--registry", static, "--out", "claims.snapshot", cwd=tmp_path)
    assert "full download" in out.stdout
    assert (tmp_path / "claims.snapshot").read_bytes() == httpx.get(f"{published.live}/v1/snapshot").content
    again = kotowari("snapshot", "pull", "--registry", static, "--out", "claims.snapshot", cwd=tmp_path)
    assert "unchanged" in again.stdout


def test_log_verify_and_log_audit_pass_against_a_static_server(static: str, tmp_path: Path) -> None:
    verified = kotowari("log", "verify", "--registry", static, "--state", "log.json", cwd=tmp_path)
    assert verified.stdout.startswith("ok: ")
    audited = kotowari("log", "audit", "--registry", static, "--state", "audit", cwd=tmp_path).stdout
    assert "consistent" in audited and "a static copy: claim lookups, signed check answers" in audited
    report = json.loads(
        kotowari("log", "audit", "--registry", static, "--state", "audit", "--json", cwd=tmp_path).stdout
    )
    assert report["consistent"] and report["live_only"] == [
        "claim lookups",
        "signed check answers",
        "operator records",
    ]
    japanese = run_process(
        tmp_path, ("log", "audit", "--registry", static, "--state", "audit"), {"LANG": "ja_JP.UTF-8"}
    )
    assert japanese.returncode == 0 and "静的" in japanese.stdout


def test_the_client_reads_a_static_copy_and_says_what_needs_the_live_registry(
    published: Published, static: str
) -> None:
    size = size_of((published.tree / "log/checkpoint").read_text())
    with Client(static) as copy, Client(published.live) as live:
        assert copy.checkpoint() == live.checkpoint()
        assert copy.info()["static"]["tree_size"] == size
        for first in (1, 200, 256, size - 1):
            assert copy.consistency_proof(first, size) == live.consistency_proof(first, size)
        assert copy.snapshot() == live.snapshot()
        assert read_delta(copy.snapshot(since=size)).state.tree_size == size
        with pytest.raises(DeltaUnavailable, match="no delta from 5"):
            copy.snapshot(since=5)
        with pytest.raises(StaticCopy, match="needs the live registry"):
            copy.inclusion_proof(bytes(32), size)
    # a check posted before anything else was read: 404, 405 or 501
    with Client(static) as fresh, pytest.raises(StaticCopy, match="no signed check answers"):
        fresh.check([{"scheme": "url", "value": "https://published.example/1/"}], purpose="train-ai")
    with Client(static) as copy:
        copy.info()
        key, now = keys.SigningKey.generate(), datetime.now(UTC).replace(microsecond=0)
        with pytest.raises(StaticCopy, match="ask the live registry"):
            copy.file_claim(signed_claim(key, now, urls=("https://published.example/new/",)))


def test_a_check_against_a_static_server_says_to_ask_the_live_registry(static: str, tmp_path: Path) -> None:
    asked = ("check", "--registry", static, "--purpose", "train-ai", "--url", "https://published.example/1/a")
    english = run_process(tmp_path, asked, {"LANG": "C.UTF-8"})
    assert english.returncode == 2 and english.stdout == ""
    assert (
        english.stderr.count("\n") == 1
        and "static copy, which gives no signed check answers" in english.stderr
    )
    japanese = run_process(tmp_path, asked, {"LANG": "ja_JP.UTF-8"})
    assert japanese.returncode == 2 and "静的コピーで、署名付きの確認回答を返しません" in japanese.stderr


async def test_the_async_client_reads_a_static_copy_the_same_way(published: Published, static: str) -> None:
    from crawler_client.async_client import AsyncClient

    size = size_of((published.tree / "log/checkpoint").read_text())
    with Client(published.live) as live:
        expected = live.consistency_proof(3, size), live.snapshot()
    async with AsyncClient(static) as copy:
        assert (await copy.consistency_proof(3, size), await copy.snapshot()) == expected
        with pytest.raises(DeltaUnavailable):
            await copy.snapshot(since=size - 1)


def test_nginx_serves_every_path_with_its_cache_headers_and_type(published: Published) -> None:
    size = size_of((published.tree / "log/checkpoint").read_text())
    partial = tile_path(0, 1, size - 256)
    expected = {
        "/log/checkpoint": ("no-cache", "text/plain; charset=utf-8"),
        "/v1/registry": ("no-cache", "application/json"),
        "/v1/snapshots/latest": ("no-cache", "application/json"),
        "/log/tile/0/000": (IMMUTABLE, "application/octet-stream"),
        "/log/tile/entries/000": (IMMUTABLE, "application/octet-stream"),
        partial: ("public, max-age=60", "application/octet-stream"),
        f"/v1/snapshots/full/{size}": (IMMUTABLE, "application/vnd.kotowari.snapshot"),
        f"/v1/snapshots/delta/{size}-{size}": (IMMUTABLE, "application/vnd.kotowari.snapshot"),
    }
    with nginx_server(published.tree) as url:
        for path, (cache, media) in expected.items():
            answer = httpx.get(url + path)
            assert answer.status_code == 200, path
            assert (answer.headers["cache-control"], answer.headers["content-type"]) == (cache, media), path
            assert answer.content == (published.tree / path.lstrip("/")).read_bytes()
        for hidden in ("/_nginx.conf", "/_headers", "/log/.checkpoint.tmp", f"/v1/snapshots/full/{size + 1}"):
            assert httpx.get(url + hidden).status_code == 404, hidden
    sidecar = (published.tree / "_headers").read_text()
    assert f"/log/tile/*\n  Cache-Control: {IMMUTABLE}" in sidecar
    assert f"{partial}\n  ! Cache-Control\n  Cache-Control: public, max-age=60" in sidecar


# ---------------------------------------------------------------------- following the log


FULL_FILES = ("log/tile/0/000", "log/tile/entries/000")


@dataclass
class Grown:
    published: Published
    before: int
    after: int
    stats: dict[str, tuple[int, int]]
    watched: subprocess.CompletedProcess[str]
    pulls: tuple[str, str]
    verified: tuple[str, str]
    audited: tuple[str, str]


def reads(url: str, work: Path) -> tuple[str, str, str]:
    """`snapshot pull`, `log verify` and `log audit` of `url`, keeping their state in `work`."""
    return (
        kotowari("snapshot", "pull", "--registry", url, "--out", "c.snapshot", cwd=work).stdout,
        kotowari("log", "verify", "--registry", url, "--state", "log.json", cwd=work).stdout,
        kotowari("log", "audit", "--registry", url, "--state", "audit", cwd=work).stdout,
    )


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grown]:
    """Published, read once by pull, verify and audit; then more filings, `publish --watch` until the
    tree follows, SIGTERM; then the same reads again from the same local state."""
    making = publishing(tmp_path_factory, "grown", 10)
    published = next(making)
    tree, work = published.tree, published.work
    before = size_of((tree / "log/checkpoint").read_text())
    stats = {p: ((tree / p).stat().st_ino, (tree / p).stat().st_mtime_ns) for p in FULL_FILES}
    with python_http_server(tree) as url:
        first = reads(url, work)
        shutil.copy(work / "log.json", work / "log.before.json")  # for the tampering tests
        shutil.copytree(work / "audit", work / "audit.before")
        file_many(published.live, 7, "more.example")
        after = size_of(httpx.get(f"{published.live}/log/checkpoint").text)
        argv = [*kotowari_command(), "publish", "--registry", published.live, "--out", str(tree)]
        argv += ["--watch", "--interval", "0.2"]
        watch = subprocess.Popen(argv, cwd=work, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while size_of((tree / "log/checkpoint").read_text()) != after and time.monotonic() < deadline:
            time.sleep(0.1)
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=30)
        second = reads(url, work)
    watched = subprocess.CompletedProcess(argv, watch.returncode, out, err)
    try:
        yield Grown(published, before, after, stats, watched, *zip(first, second, strict=True))
    finally:
        making.close()


def test_watch_follows_the_log_and_stops_cleanly_on_sigterm(grown: Grown) -> None:
    assert grown.watched.returncode == 0, grown.watched.stderr
    assert grown.watched.stdout.strip().endswith("publish: stopped") and not grown.watched.stderr
    tree = grown.published.tree
    assert size_of((tree / "log/checkpoint").read_text()) == grown.after > grown.before
    for path, stat in grown.stats.items():
        assert ((tree / path).stat().st_ino, (tree / path).stat().st_mtime_ns) == stat, (
            "full tiles are written once"
        )


def test_a_published_delta_applied_to_the_old_snapshot_gives_the_new_one(grown: Grown) -> None:
    tree, old, new = grown.published.tree, grown.before, grown.after
    _state, data = read_full((tree / f"v1/snapshots/full/{old}").read_bytes())
    delta = read_delta((tree / f"v1/snapshots/delta/{old}-{new}").read_bytes())
    assert (
        encode_full(delta.state, apply_delta(data, delta)) == (tree / f"v1/snapshots/full/{new}").read_bytes()
    )
    assert json.loads((tree / "v1/snapshots/latest").read_text())["deltas_from"] == [old, new]


def test_reads_after_growth_take_the_delta_and_prove_consistency_from_tiles(grown: Grown) -> None:
    assert "full download" in grown.pulls[0] and f"delta from {grown.before}" in grown.pulls[1]
    assert (grown.published.work / "c.snapshot").read_bytes() == httpx.get(
        f"{grown.published.live}/v1/snapshot"
    ).content
    assert f"consistent with size {grown.before} seen before" in grown.verified[1]
    assert all("consistent" in line and "a static copy" in line for line in grown.audited)
    assert f"audited {grown.after} entries" in grown.audited[1]


# ---------------------------------------------------------------------- tampering


def tampered_copy(grown: Grown, tmp_path: Path, change: str) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(grown.published.tree, copy)
    shutil.copy(grown.published.work / "log.before.json", tmp_path / "log.json")  # at the size before
    shutil.copytree(grown.published.work / "audit.before", tmp_path / "audit")
    if change == "tile":  # the hash of the last leaf, in the level-0 tile of the current size
        last = grown.after - 1
        path = copy / tile_path(0, last // 256, grown.after - last // 256 * 256).lstrip("/")
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 1
        path.write_bytes(bytes(raw))
    else:  # the checkpoint's signature
        note = (copy / "log/checkpoint").read_text()
        head, signature = note.rsplit(" ", 1)
        flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
        (copy / "log/checkpoint").write_text(f"{head} {flipped}")
    return copy


def test_a_flipped_byte_in_a_published_tile_fails_verify_and_audit(grown: Grown, tmp_path: Path) -> None:
    with python_http_server(tampered_copy(grown, tmp_path, "tile")) as url:
        verified = kotowari(
            "log", "verify", "--registry", url, "--state", "log.json", cwd=tmp_path, check_status=1
        )
        assert verified.stdout.startswith("INCONSISTENT: ")
        fresh = kotowari("log", "audit", "--registry", url, "--state", "fresh", cwd=tmp_path, check_status=1)
        assert "DISCREPANCY tile: hash tile 0/" in fresh.stdout


def test_a_published_checkpoint_whose_signature_fails_is_refused(grown: Grown, tmp_path: Path) -> None:
    with python_http_server(tampered_copy(grown, tmp_path, "checkpoint")) as url:
        verified = kotowari(
            "log", "verify", "--registry", url, "--state", "log.json", cwd=tmp_path, check_status=1
        )
        assert verified.stdout.startswith("INCONSISTENT: ") and "does not verify" in verified.stdout
        audited = kotowari(
            "log", "audit", "--registry", url, "--state", "audit", cwd=tmp_path, check_status=1
        )
        assert "DISCREPANCY checkpoint: the checkpoint is not signed by the registry" in audited.stdout


def test_without_a_registry_url_the_registry_of_this_machine_is_published(
    published: Published, tmp_path: Path
) -> None:
    """`publish --out DIR` as DESIGN.md writes it: the registry of --data-dir (here while its own
    `kotowari serve` runs on the same database), served privately on loopback, gives the same tree."""
    local = tmp_path / "local"
    done = kotowari(
        "publish", "--out", str(local), "--data-dir", str(published.server.data_dir), cwd=tmp_path
    )
    assert done.stdout.startswith("published size ")
    for path in [*files(published.tree, "log"), published.tree / "v1/registry"]:  # snapshots: signed anew
        relative = path.relative_to(published.tree)
        assert (local / relative).read_bytes() == path.read_bytes(), relative
    # the same from the working directory `kotowari serve` was started in (its default ./kotowari-data)
    (tmp_path / "here").mkdir()
    shutil.copytree(published.server.data_dir, tmp_path / "here" / "kotowari-data")
    kotowari("publish", "--out", "tree", cwd=tmp_path / "here")
    assert (tmp_path / "here/tree/log/checkpoint").read_text() == (
        published.tree / "log/checkpoint"
    ).read_text()


# ---------------------------------------------------------------------- refusals
# ---------------------------------------------------------------------- refusals


def test_bad_input_is_one_line_and_exit_2_in_english_and_japanese(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    nowhere = f"http://127.0.0.1:{free_port()}"
    cases = [
        (("--registry", nowhere, "--out", "a-file"), "--out a-file: not a directory"),
        (("--registry", nowhere, "--out", "a-file/sub"), "--out a-file/sub: cannot create it"),
        (("--registry", nowhere, "--out", "o", "--interval", "0"), "--interval is a number of seconds"),
        (("--registry", nowhere, "--out", "o", "--deltas", "-1"), "--deltas is a number"),
        (("--registry", nowhere, "--out", "o", "--max-files", "0"), "--max-files is at least 1"),
        (("--registry", "ftp://example.com", "--out", "o"), "http(s) URL"),
        (("--registry", nowhere, "--out", "o"), "cannot reach"),
    ]
    for argv, said in cases:
        done = run_process(tmp_path, ("publish", *argv), {"LANG": "C"})
        assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, (
            argv,
            done.stderr,
        )
    assert run_process(tmp_path, ("publish", "--registry", nowhere), {"LANG": "C"}).returncode == 2
    local_cases = [
        (("--out", "t"), "no registry in kotowari-data: give --registry URL"),
        (("--out", "t", "--data-dir", "empty"), "no registry in empty"),
        (("--out", "t", "--data-dir", "d", "--registry", nowhere), "not with --registry"),
        (("--out", "t", "--db", "mysql://x/y"), "mysql"),
    ]
    for argv, said in local_cases:  # nothing is created: no tree, no data directory, no key
        done = run_process(tmp_path, ("publish", *argv), {"LANG": "C"})
        assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, (argv, done)
        assert not any((tmp_path / name).exists() for name in ("t", "kotowari-data", "empty", "d"))
    japanese = run_process(
        tmp_path, ("publish", "--registry", nowhere, "--out", "a-file"), {"LANG": "ja_JP.UTF-8"}
    )
    assert japanese.returncode == 2 and japanese.stderr.startswith("kotowari: エラー: ")
    assert "ディレクトリ" in japanese.stderr and japanese.stderr.count("\n") == 1


def test_the_readme_section_runs_as_written(
    published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.crawler_client.readme import Shell, blocks

    monkeypatch.chdir(tmp_path)
    (block,) = blocks("Publishing reads to a static server or CDN")
    reads = tmp_path / "reads"
    reads.mkdir()
    with python_http_server(reads) as url:
        shell = Shell(published.live)
        shell.rewrite.update({"/srv/kotowari-reads": str(reads), "https://reads.example.org": url})
        ran = shell.run(block)
    assert [r.status for r in ran] == [0, 0, 0, 0], [str(r) for r in ran]
    assert re.fullmatch(r"published size \d+ \(snapshot at \d+\): \d+ files written\n", ran[0].out)
    assert "full download" in ran[1].out and ran[2].out.startswith("ok: ")
    assert re.fullmatch(
        r"audited \d+ entries, \d+ claims \(0 compared\), 0 answers: consistent \(a static copy: claim "
        r"lookups, signed check answers and operator records need the live registry, not audited\)\n",
        ran[3].out,
    )


def test_watch_outlives_an_unreachable_registry_and_stops_when_told(tmp_path: Path) -> None:
    import threading

    from crawler_client.audit.http import RegistryHttp
    from crawler_client.core import RetryPolicy
    from crawler_client.publish import Publisher

    nowhere = f"http://127.0.0.1:{free_port()}"
    stop, seen = threading.Event(), []

    def on_round(done: object) -> None:
        seen.append(done)
        if len(seen) == 3:
            stop.set()

    http = RegistryHttp(nowhere, retry=RetryPolicy(base_delay=0.0), sleep=lambda _: None)
    with Publisher(nowhere, tmp_path / "tree", http=http) as publisher:
        publisher.watch(0.01, stop, on_round)
    assert len(seen) == 3 and all(not r.complete and "cannot reach" in r.notes[0] for r in seen)
    assert not (tmp_path / "tree").exists()
