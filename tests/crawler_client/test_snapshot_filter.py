"""`kotowari snapshot pull` and `kotowari filter` against a real registry process: deltas, refusals
with the previous snapshot intact, filtering Parquet/CSV/JSONL, and the signed manifest."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from crawler_client import manifest as manifest_module
from crawler_client.cli import main
from crawler_client.client import Client
from crawler_client.snapshot import Snapshot, SnapshotRefused, pull
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import signed_claim, signed_withdrawal


@pytest.fixture(scope="module")
def creator() -> keys.SigningKey:
    return keys.SigningKey.generate()


def file_claim(registry: ServerProcess, key: keys.SigningKey, **kw: Any) -> str:
    with Client(registry.url) as client:
        receipt = client.file_claim(signed_claim(key, datetime.now(UTC), **kw))
    return str(receipt["id"])


class Tampering(httpx.HTTPTransport):
    """Passes requests to the real registry, then damages snapshot answers as a network attacker could."""

    def __init__(self, damage: Callable[[bytes], bytes]) -> None:
        super().__init__()
        self.damage = damage

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path != "/v1/snapshot":
            return response
        return httpx.Response(
            response.status_code, headers=response.headers, content=self.damage(response.read())
        )


class OlderSince(httpx.HTTPTransport):
    """Asks for a delta from one entry before the client's snapshot: one that cannot continue it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("since")
        if since:
            request.url = request.url.copy_set_param("since", str(int(since) - 1))
        return super().handle_request(request)


def test_pull_full_then_delta_then_unchanged(
    registry: ServerProcess, creator: keys.SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    first = file_claim(registry, creator, urls=("https://pull.example/",))
    local = tmp_path / "claims.snapshot"
    assert main(["snapshot", "pull", "--registry", registry.url, "--out", str(local)]) == 0
    assert "full download" in capsys.readouterr().out
    before = Snapshot.open(local)
    assert (
        before.check([{"scheme": "url", "value": "https://pull.example/x"}], purpose="train-ai")["items"][0][
            "decision"
        ]
        == "n"
    )
    before.close()

    file_claim(registry, creator, urls=("https://pull-two.example/",))
    with Client(registry.url) as client:
        client.withdraw_claim(first, signed_withdrawal(creator, first, datetime.now(UTC)))
    assert main(["snapshot", "pull", "--registry", registry.url, "--out", str(local), "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["how"] == "delta" and pulled["tree_size"] == pulled["previous"] + 2

    fresh = tmp_path / "fresh.snapshot"
    assert pull(registry.url, fresh).how == "full"
    assert local.read_bytes() == fresh.read_bytes()  # a merged delta is the registry's full snapshot
    assert pull(registry.url, local).how == "unchanged"
    after = Snapshot.open(local)
    answers = after.check(
        [
            {"scheme": "url", "value": "https://pull.example/x"},
            {"scheme": "url", "value": "https://pull-two.example/"},
        ],
        purpose="train-ai",
    )
    assert [item["decision"] for item in answers["items"]] == ["unknown", "n"]


def _flip_last_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


@pytest.mark.parametrize("damage", [_flip_last_byte, _truncate], ids=["corrupt", "truncated"])
def test_a_damaged_delta_or_snapshot_is_refused_and_the_previous_one_stays(
    registry: ServerProcess, creator: keys.SigningKey, tmp_path: Path, damage: Callable[[bytes], bytes]
):
    file_claim(registry, creator, urls=("https://damage.example/",))
    local = tmp_path / "claims.snapshot"
    pull(registry.url, local)
    kept = local.read_bytes()
    file_claim(registry, creator, urls=("https://damage-two.example/",))
    with Client(registry.url, transport=Tampering(damage)) as client, pytest.raises(SnapshotRefused):
        pull(client, local)
    assert local.read_bytes() == kept
    Snapshot.open(local).close()  # still verifies
    with Client(registry.url, transport=Tampering(damage)) as client, pytest.raises(SnapshotRefused):
        pull(client, tmp_path / "new.snapshot")  # a first, full download is refused the same way
    assert not (tmp_path / "new.snapshot").exists()


def test_a_delta_that_does_not_continue_the_local_snapshot_falls_back_to_a_full_download(
    registry: ServerProcess, creator: keys.SigningKey, tmp_path: Path
):
    file_claim(registry, creator, urls=("https://fallback.example/",))
    file_claim(registry, creator, urls=("https://fallback-two.example/",))
    local = tmp_path / "claims.snapshot"
    pull(registry.url, local)

    with Client(registry.url, transport=OlderSince()) as client:
        assert pull(client, local).how == "full"
    fresh = tmp_path / "fresh.snapshot"
    pull(registry.url, fresh)
    assert local.read_bytes() == fresh.read_bytes()


def test_a_snapshot_from_another_registry_is_refused(registry: ServerProcess, tmp_path: Path):
    local = tmp_path / "claims.snapshot"
    pull(registry.url, local)
    kept = local.read_bytes()
    other = start_server(tmp_path / "other")
    try:
        with pytest.raises(SnapshotRefused, match=r"another log|signed for registry"):
            pull(other.url, local)
    finally:
        stop_server(other)
    assert local.read_bytes() == kept
    with pytest.raises(SnapshotRefused, match="signed for registry"):
        pull(registry.url, tmp_path / "pinned.snapshot", registry_did=keys.SigningKey.generate().did)


# ---------------------------------------------------------------- filter


@pytest.fixture(scope="module")
def dataset_snapshot(
    registry: ServerProcess, creator: keys.SigningKey, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str]]:
    file_claim(registry, creator, urls=("https://reserved.example/",), deny=("train-ai",))
    file_claim(registry, creator, urls=("http://mixed.example/private/",), deny=("train-ai",))
    file_claim(registry, creator, urls=("https://yes.example/",), deny=(), allow={"train-ai": "y"})
    path = tmp_path_factory.mktemp("snap") / "claims.snapshot"
    pull(registry.url, path)
    rng = random.Random(7)
    values: list[str | None] = []
    for n in range(5000):
        roll = rng.random()
        if roll < 0.1:
            values.append(f"https://WWW.reserved.example/img/{n}.jpg")
        elif roll < 0.2:
            values.append(f"http://mixed.example/{rng.choice(['private', 'public'])}/{n}.png")
        elif roll < 0.25:
            values.append(f"https://yes.example/{n}")
        elif roll < 0.27:
            values.append(rng.choice(["not a url", "http://[::1", "", "javascript:alert(1)"]))
        elif roll < 0.28:
            values.append(None)
        else:
            values.append(f"https://site{rng.randrange(500)}.example.org/p/{n}")
    return path, values  # type: ignore[return-value]


def expected_codes(snapshot_path: Path, values: list[str | None]) -> list[str]:
    snapshot = Snapshot.open(snapshot_path)
    decided = []
    for value in values:
        try:
            answer = snapshot.check([{"scheme": "url", "value": value}], purpose="train-ai")
            decided.append(answer["items"][0]["decision"])
        except Exception:
            decided.append("invalid")
    return decided


def test_filter_parquet_keeps_exactly_what_check_allows_and_signs_a_manifest(
    dataset_snapshot: tuple[Path, list[str | None]],
    creator: keys.SigningKey,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    snapshot, values = dataset_snapshot
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(len(values))), "url": values}), source, row_group_size=1000)
    monkeypatch.setattr(manifest_module, "INLINE_LIMIT", 100)  # this dataset's removals go to a sidecar
    keys.write_key_file(tmp_path / "operator.key", operator := keys.SigningKey.generate())
    argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
    argv += ["--manifest", str(tmp_path / "manifest.json"), "--key", str(tmp_path / "operator.key")]
    assert main([*argv, "--json", str(source), str(tmp_path / "out.parquet")]) == 0
    summary = json.loads(capsys.readouterr().out)

    decided = expected_codes(snapshot, values)
    kept_ids = [n for n, d in enumerate(decided) if d in ("unknown", "y")]
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == kept_ids
    assert summary["rows"]["decisions"] == {d: decided.count(d) for d in ("unknown", "y", "n", "invalid")}
    assert decided.count("n") > 500 and decided.count("invalid") > 50 and decided.count("y") > 100

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["operator"] == operator.did and manifest["rows"]["kept"] == len(kept_ids)
    assert manifest["snapshot"]["tree_size"] == Snapshot.open(snapshot).tree_size
    sidecar = tmp_path / manifest["removed"]["file"]
    listed = [json.loads(line) for line in sidecar.read_text().splitlines()]
    assert [entry["row"] for entry in listed] == [n for n, d in enumerate(decided) if d in ("n", "invalid")]
    assert all(entry["claims"] for entry in listed if entry["decision"] == "n")
    for claim in (claim for entry in listed for claim in entry.get("claims", [])):
        assert claim["claimant"] == creator.did and claim["uses"]["train-ai"] == "n"
        assert claim["kind"] and claim["authority"] == ["self-asserted"]

    assert main(["verify", str(tmp_path / "manifest.json")]) == 0
    data = ["--data", str(source), str(tmp_path / "out.parquet")]
    assert main(["verify", str(tmp_path / "manifest.json"), *data]) == 0
    assert "output" in capsys.readouterr().out
    reserved_row = {"id": decided.index("n"), "url": values[decided.index("n")]}
    put_back = [*pq.read_table(tmp_path / "out.parquet").to_pylist(), reserved_row]
    pq.write_table(pa.Table.from_pylist(put_back), tmp_path / "tampered.parquet")
    tampered = ["--data", str(source), str(tmp_path / "tampered.parquet")]
    assert main(["verify", str(tmp_path / "manifest.json"), *tampered]) == 1
    assert "is not the output this manifest signs" in capsys.readouterr().out
    swapped = ["--data", str(tmp_path / "out.parquet"), str(source)]
    assert main(["verify", str(tmp_path / "manifest.json"), *swapped]) == 1
    assert "is not the input" in capsys.readouterr().out
    missing = ["--data", str(source), str(tmp_path / "nowhere.parquet")]
    assert main(["verify", str(tmp_path / "manifest.json"), *missing]) == 2
    assert "no such file" in capsys.readouterr().err
    sidecar.write_text(sidecar.read_text().replace('"row":', '"row": ', 1))
    assert main(["verify", str(tmp_path / "manifest.json")]) == 1
    assert "sidecar" in capsys.readouterr().out
    manifest["rows"]["kept"] += 1
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert main(["verify", str(tmp_path / "manifest.json")]) == 1


def test_filter_with_a_manifest_over_parquet_never_imports_pandas(
    dataset_snapshot: tuple[Path, list[str | None]], tmp_path: Path
):
    """pyarrow imports pandas (a third of a CPU-second) for `pa.array` and `pa.scalar`: the filter
    builds its Arrow arrays without them (crawler_client.arrow_arrays), nulls and escapes included.
    Nor does opening a snapshot import httpx and the client: only `snapshot pull` needs them."""
    snapshot, values = dataset_snapshot
    source = tmp_path / "in.parquet"
    rows = [*values[:2000], 'https://reserved.example/"quoted"\\', None]
    pq.write_table(pa.table({"url": rows}), source, row_group_size=500)
    keys.write_key_file(tmp_path / "operator.key", keys.SigningKey.generate())
    argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
    argv += ["--manifest", str(tmp_path / "m.json"), "--key", str(tmp_path / "operator.key")]
    argv += [str(source), str(tmp_path / "out.parquet")]
    script = (
        "import sys; from crawler_client.cli import main; status = main(sys.argv[1:]); "
        "print('pandas' in sys.modules, 'httpx' in sys.modules); sys.exit(status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False False", done.stdout
    assert "removed" in done.stdout and Path(tmp_path / "m.json").is_file()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_filter_csv_and_jsonl(
    dataset_snapshot: tuple[Path, list[str | None]],
    tmp_path: Path,
    suffix: str,
    capsys: pytest.CaptureFixture[str],
):
    snapshot, values = dataset_snapshot
    rows = [{"id": str(n), "url": value or ""} for n, value in enumerate(values[:800])]
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_text("id,url\n" + "".join(f'{r["id"]},"{r["url"]}"\n' for r in rows))
    else:
        source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"out{suffix}"
    argv = [
        "filter",
        "--snapshot",
        str(snapshot),
        "--purpose",
        "train-ai",
        "--column",
        "url",
        "--invalid",
        "keep",
    ]
    assert main([*argv, str(source), str(out)]) == 0
    decided = expected_codes(snapshot, [r["url"] for r in rows])
    expected = [r["id"] for r, d in zip(rows, decided, strict=True) if d != "n"]
    if suffix == ".csv":
        kept = [line.split(",")[0].strip('"') for line in out.read_text().splitlines()[1:]]
    else:
        kept = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert kept == expected
    assert "unparsable kept" in capsys.readouterr().out


def test_filter_refusals_are_one_line(
    dataset_snapshot: tuple[Path, list[str | None]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    snapshot, _ = dataset_snapshot
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"link": ["https://a.example/"], "n": [1]}), source)
    base = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai"]
    (tmp_path / "broken.snapshot").write_bytes(snapshot.read_bytes()[:-100])
    cases = [
        ([*base, "--column", "url", str(source), str(tmp_path / "o.parquet")], "no column 'url'"),
        ([*base, "--column", "n", str(source), str(tmp_path / "o.parquet")], "not strings"),
        ([*base, "--column", "link", str(source), str(source)], "different files"),
        (
            [*base, "--column", "link", "--manifest", "m.json", str(source), str(tmp_path / "o.parquet")],
            "--key",
        ),
        (
            [*base, "--column", "link", str(tmp_path / "missing.parquet"), str(tmp_path / "o.parquet")],
            "missing",
        ),
        ([*base, "--column", "link", str(source), str(tmp_path / "o.txt")], "unknown format"),
        (
            [
                "filter",
                "--snapshot",
                str(tmp_path / "broken.snapshot"),
                "--purpose",
                "train-ai",
                "--column",
                "link",
                str(source),
                str(tmp_path / "o.parquet"),
            ],
            "truncated",
        ),
    ]
    for argv, needle in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)
        assert not (tmp_path / "o.parquet").exists()
        reading = [t for t in threading.enumerate() if t.name == "kotowari-filter-read"]
        assert not reading, argv  # a refusal leaves no thread reading ahead


def test_check_against_a_snapshot_gives_the_registrys_answer(
    registry: ServerProcess,
    creator: keys.SigningKey,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    file_claim(registry, creator, urls=("https://offline-cli.example/gallery/",))
    local = tmp_path / "claims.snapshot"
    pull(registry.url, local)
    capsys.readouterr()
    for where in (["--snapshot", str(local)], ["--registry", registry.url]):
        argv = [
            "check",
            *where,
            "--purpose",
            "train-ai",
            "--url",
            "https://www.offline-cli.example/gallery/a.png",
        ]
        assert main([*argv, "--url", "https://elsewhere.example/"]) == 1
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("n ") and any(line.startswith("unknown") for line in out)
    assert (
        main(
            [
                "check",
                "--snapshot",
                str(local),
                "--purpose",
                "search",
                "--url",
                "https://offline-cli.example/",
            ]
        )
        == 0
    )
    capsys.readouterr()
    for argv, needle in (
        (["check", "--purpose", "train-ai", "--url", "https://a.example/"], "--snapshot FILE"),
        (
            [
                "check",
                "--snapshot",
                str(tmp_path / "missing"),
                "--purpose",
                "train-ai",
                "--url",
                "https://a/",
            ],
            "missing",
        ),
        (["check", "--snapshot", str(local), "--purpose", "train-ai", "--pdq", "abc"], "64 hex"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--snapshot", str(local), "--registry", registry.url, "--purpose", "train-ai"])
    assert exit_.value.code == 2


def test_verify_data_is_only_for_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    key = keys.SigningKey.generate()
    (tmp_path / "doc.json").write_bytes(keys.canonicalize(keys.sign_document({"type": "Note"}, key)))
    (tmp_path / "a").write_bytes(b"a")
    data = ["--data", str(tmp_path / "a"), str(tmp_path / "a")]
    assert main(["verify", str(tmp_path / "doc.json"), *data]) == 2
    assert "--data goes with a compliance manifest" in capsys.readouterr().err


def test_filter_writes_the_same_bytes_whatever_the_workers_and_read_ahead(
    dataset_snapshot: tuple[Path, list[str | None]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    """The pipeline (a reading thread ahead, deciding threads, writing here) changes no byte: the
    kept rows, their order and the manifest's sidecar are those of one thread doing it all."""
    from crawler_client.datasets import Reader

    snapshot, values = dataset_snapshot
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(len(values))), "url": values}), source, row_group_size=700)
    monkeypatch.setattr(manifest_module, "INLINE_LIMIT", 100)
    monkeypatch.setattr(Reader.__init__, "__kwdefaults__", {"batch_rows": 313})  # many batches in flight
    keys.write_key_file(tmp_path / "operator.key", keys.SigningKey.generate())
    results = []
    for workers in (1, 2, 4):
        out, manifest = tmp_path / f"out{workers}.parquet", tmp_path / f"manifest{workers}.json"
        argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
        argv += ["--manifest", str(manifest), "--key", str(tmp_path / "operator.key")]
        argv += ["--at", "2026-01-01T00:00:00Z", "--workers", str(workers), "--json", str(source), str(out)]
        assert main(argv) == 0
        rows = json.loads(capsys.readouterr().out)["rows"]
        document = json.loads(manifest.read_text())
        sidecar = (tmp_path / document["removed"]["file"]).read_bytes()
        results.append((rows, out.read_bytes(), document["removed"]["sha256"], sidecar))
    assert results[0][0]["removed"] > 100
    assert results[1:] == [results[0], results[0]]


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.integers(), max_size=30),
    depth=st.integers(1, 4),
    fail_at=st.none() | st.integers(0, 30),
    stop_after=st.none() | st.integers(0, 30),
)
def test_prefetch_yields_what_it_reads_in_order_raises_its_error_and_stops(
    items: list[int], depth: int, fail_at: int | None, stop_after: int | None
):
    from crawler_client.dataset_cli import _Prefetch

    class Broken(Exception):
        pass

    def produce() -> Any:
        for n, item in enumerate(items):
            if n == fail_at:
                raise Broken(n)
            yield item

    expected = items if fail_at is None else items[:fail_at]
    prefetch = _Prefetch(produce(), depth)
    got: list[int] = []
    try:
        for item in prefetch:
            if stop_after is not None and len(got) == stop_after:
                break
            got.append(item)
        else:
            assert fail_at is None or fail_at >= len(items)
    except Broken as exc:
        assert exc.args == (fail_at,) and fail_at is not None and fail_at < len(items)
    finally:
        prefetch.close()
    assert got == expected[: len(got)]
    if stop_after is None:
        assert got == expected
    assert not prefetch._thread.is_alive()
