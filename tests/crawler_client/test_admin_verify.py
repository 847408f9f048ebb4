"""`kotowari admin verify`: a database (a restored backup) checked against the log before it is served.

A registry files claims through a real `kotowari serve`; copies of its database taken along the way play
the backups. A copy that holds every entry verifies, also against the checkpoint the registry published;
a copy taken before the last filings is refused (behind the data directory's mark, and, with the mark
gone, behind the published checkpoint); so is a database holding another tree under the same key (a
fork). On PostgreSQL, the README's own backup-and-restore block runs as written (pg_dump, createdb,
pg_restore, then the check), and a restore of an older dump is refused the same way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from registry.documents import new_claim
from tests.conftest import REQUIRE_POSTGRES_ENV, _create_database, start_server, stop_server
from tests.crawler_client.cli_harness import run, run_process
from tests.crawler_client.readme import blocks

MISSING = "entries are missing"


def file_claims(url: str, key: keys.SigningKey, labels: list[str]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for label in labels:
        claim = new_claim(
            key.did, "work", [("url", f"https://{label}.example/art/")], {"train-ai": "n"}, created=now
        )
        answer = httpx.post(
            f"{url}/v1/claims", content=keys.canonicalize(keys.sign_document(claim, key, created=now))
        )
        assert answer.status_code == 201, answer.text


@dataclass
class Made:
    """A stopped SQLite registry of 5 entries: its data directory, the database as it was after 2
    entries (an old backup), and the checkpoint it published at 5."""

    data_dir: Path
    old_database: Path
    checkpoint: Path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    root = tmp_path_factory.mktemp("admin-verify")
    server = start_server(root / "data")
    key = keys.SigningKey.generate()
    try:
        file_claims(server.url, key, ["a", "b"])
        with (
            sqlite3.connect(root / "data" / "kotowari.sqlite3") as live,
            sqlite3.connect(root / "old.sqlite3") as old,
        ):
            live.backup(old)  # a consistent copy while the server runs, as `sqlite3 .backup` makes
        file_claims(server.url, key, ["c", "d", "e"])
        (root / "checkpoint").write_text(httpx.get(f"{server.url}/log/checkpoint").text, encoding="utf-8")
    finally:
        stop_server(server)
    yield Made(root / "data", root / "old.sqlite3", root / "checkpoint")


def copy_of(made: Made, tmp_path: Path, database: Path | None = None, mark: bool = True) -> Path:
    """A data directory like the registry's, with `database` (default its own) restored into it."""
    data_dir = tmp_path / "restored"
    shutil.copytree(made.data_dir, data_dir)
    if database is not None:  # the stopped server's write-ahead log belongs to the database replaced
        for leftover in data_dir.glob("kotowari.sqlite3-*"):
            leftover.unlink()
        shutil.copy(database, data_dir / "kotowari.sqlite3")
    if not mark:
        (data_dir / "verified-checkpoint").unlink()
    return data_dir


def test_a_complete_database_verifies_against_the_published_checkpoint(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = copy_of(made, tmp_path)
    status, out, err = run(
        capsys, "admin", "verify", "--data-dir", str(data_dir), "--checkpoint", str(made.checkpoint)
    )
    assert status == 0, err
    assert out.splitlines() == [
        "verified 5 log entries, 5 signatures and 5 cached rows",
        f"holds the tree of {made.checkpoint} (size 5), as the registry signed it",
    ]


def test_an_old_backup_is_behind_the_mark_and_behind_the_published_checkpoint(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    behind_mark = copy_of(made, tmp_path / "1", made.old_database)
    status, out, err = run(capsys, "admin", "verify", "--data-dir", str(behind_mark))
    assert status == 1 and out == ""
    assert "rolled back" in err and len(err.splitlines()) == 1, err

    no_mark = copy_of(made, tmp_path / "2", made.old_database, mark=False)
    status, out, err = run(capsys, "admin", "verify", "--data-dir", str(no_mark))
    assert status == 0, "without a mark or a checkpoint, nothing says entries are missing"
    no_mark = copy_of(made, tmp_path / "3", made.old_database, mark=False)
    status, out, err = run(
        capsys, "admin", "verify", "--data-dir", str(no_mark), "--checkpoint", str(made.checkpoint)
    )
    assert status == 1 and MISSING in err and "tree of 5 entries" in err, err
    assert not (no_mark / "verified-checkpoint").exists(), "a failed check leaves no mark"


def test_another_tree_under_the_same_key_is_a_fork(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(made.data_dir / "registry.key", other / "registry.key")
    shutil.copy(made.data_dir / "data.key", other / "data.key")
    server = start_server(other)
    try:
        file_claims(server.url, keys.SigningKey.generate(), ["x", "y", "z", "w", "v", "u"])
    finally:
        stop_server(server)
    status, _out, err = run(
        capsys, "admin", "verify", "--data-dir", str(other), "--checkpoint", str(made.checkpoint)
    )
    assert status == 1 and "a fork" in err and "at tree size 5" in err, err


def test_japanese(made: Made, tmp_path: Path) -> None:
    data_dir = copy_of(made, tmp_path, made.old_database, mark=False)
    done = run_process(
        tmp_path,
        ("admin", "verify", "--data-dir", str(data_dir), "--checkpoint", str(made.checkpoint)),
        {"LANG": "ja_JP.UTF-8"},
    )
    assert done.returncode == 1
    assert "記録が欠けています" in done.stderr and "ログを検証できませんでした" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "case",
    ["no key", "no database", "not a checkpoint", "another registry's checkpoint", "no such file", "bad url"],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: str, made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = copy_of(made, tmp_path)
    before = {path.name: path.read_bytes() for path in data_dir.iterdir()}
    argv = ["admin", "verify", "--data-dir", str(data_dir)]
    if case == "no key":
        argv = ["admin", "verify", "--data-dir", str(tmp_path)]
    elif case == "no database":
        argv += ["--db", f"sqlite://{tmp_path / 'none.sqlite3'}"]
    elif case == "not a checkpoint":
        argv += ["--checkpoint", str(data_dir / "registry.key")]
    elif case == "another registry's checkpoint":
        other = tmp_path / "other-registry"
        server = start_server(other)
        try:
            (tmp_path / "theirs").write_text(httpx.get(f"{server.url}/log/checkpoint").text, encoding="utf-8")
        finally:
            stop_server(server)
        argv += ["--checkpoint", str(tmp_path / "theirs")]
    elif case == "no such file":
        argv += ["--checkpoint", str(tmp_path / "absent")]
    else:
        argv += ["--db", "mysql://somewhere/db"]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "", (out, err)
    assert len(err.splitlines()) == 1 and err.startswith("kotowari: error: "), err
    assert not (tmp_path / "none.sqlite3").exists()
    assert {path.name: path.read_bytes() for path in data_dir.iterdir()} == before


# ------------------------------------------------------------------ PostgreSQL: the README's block


def _pg_environment(admin_url: str) -> dict[str, str]:
    """PGHOST, PGPORT and PGUSER for the client tools, from postgres://USER@HOST:PORT/DB."""
    user, _, rest = admin_url.removeprefix("postgres://").partition("@")
    host, _, port = rest.split("/", 1)[0].partition(":")
    return {"PGHOST": host, "PGPORT": port, "PGUSER": user}


def _kotowari_on_path(directory: Path) -> str:
    """A `kotowari` for the shell that runs this working tree's CLI (as the console script would)."""
    directory.mkdir()
    script = directory / "kotowari"
    root = Path(__file__).resolve().parents[2]
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{root}" exec "{sys.executable}" -m crawler_client.cli "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


def test_the_readme_backup_and_restore_runs_as_written_on_postgresql(
    postgres_server: str | None, tmp_path: Path
) -> None:
    if postgres_server is None or shutil.which("pg_dump") is None:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail("PostgreSQL and its client tools are required here")
        pytest.skip("PostgreSQL (and pg_dump) are not installed: apt-get install postgresql")
    database = asyncio.run(_create_database(postgres_server))
    server = start_server(tmp_path / "kotowari-data", database)
    key = keys.SigningKey.generate()
    try:
        file_claims(server.url, key, ["a", "b"])
        published = tmp_path / "published" / "log"
        published.mkdir(parents=True)
        (published / "checkpoint").write_text(
            httpx.get(f"{server.url}/log/checkpoint").text, encoding="utf-8"
        )
    finally:
        stop_server(server)

    (block,) = blocks("In production")
    offline = tmp_path / "offline-backup"
    offline.mkdir()
    server_part = postgres_server.rsplit("/", 1)[0]
    script = block.replace("/media/offline-backup/", f"{offline}/").replace(
        "postgres://kotowari@db.internal", server_part
    )
    env: dict[str, Any] = {
        **os.environ,
        **_pg_environment(postgres_server),
        "KOTOWARI_DB": database,
        "PATH": _kotowari_on_path(tmp_path / "bin"),
    }
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(name, None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "verified 2 log entries, 2 signatures and 2 cached rows" in done.stdout, done.stdout
    assert "holds the tree of published/log/checkpoint (size 2), as the registry signed it" in done.stdout
    for name in ("registry.key", "data.key"):
        assert stat.S_IMODE((offline / name).stat().st_mode) == 0o600, "cp -p keeps the keys' mode"

    # More filings after that dump; then the old dump restored again is refused: entries are missing.
    server = start_server(tmp_path / "kotowari-data", database)
    try:
        file_claims(server.url, key, ["c"])
        (published / "checkpoint").write_text(
            httpx.get(f"{server.url}/log/checkpoint").text, encoding="utf-8"
        )
    finally:
        stop_server(server)
    pg = {**env, "PATH": os.environ["PATH"]}
    for command in (
        ["createdb", "kotowari_restored_2"],
        ["pg_restore", "--no-owner", "--dbname=kotowari_restored_2", "kotowari.dump"],
    ):
        subprocess.run(command, cwd=tmp_path, env=pg, check=True, capture_output=True, timeout=60)
    argv = (
        *("admin", "verify", "--db", f"{server_part}/kotowari_restored_2", "--data-dir", "kotowari-data"),
        *("--checkpoint", "published/log/checkpoint"),
    )
    done = run_process(tmp_path, argv, {})
    assert done.returncode == 1 and "rolled back" in done.stderr, (done.stdout, done.stderr)
    (tmp_path / "kotowari-data" / "verified-checkpoint").unlink()  # a new machine: the published tree decides
    done = run_process(tmp_path, argv, {})
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert MISSING in done.stderr and "tree of 3 entries" in done.stderr, done.stderr
