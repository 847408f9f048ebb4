"""`kotowari claim import` of an agency's file, end to end, beside this machine's raw Ed25519 signing
rate measured in the same run (machines here are noisy: compare ratios, not seconds).

    python bench/import.py [--rows 10000] [--batch N] [--postgres]

Writes a CSV of `--rows` members (Japanese and romaji names, a URL each, an agency's authority
statement), starts a real `kotowari serve` on 127.0.0.1, and runs the real CLI in its own process:
the first import (build, validate, sign, file in bulk, verify every receipt, write the receipts
file), then a re-run that must file nothing. The raw rate is one core signing one 200-byte message
over and over with `keys` (cryptography underneath): the floor of any filing's client-side cost.
Traffic goes only to the server this script starts; every loop is bounded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from tests.conftest import ThrowawayPostgres, kotowari_command, postgres_bindir, start_server, stop_server

FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("彩花", "蓮", "陽翔", "結衣", "湊", "葵", "大和", "凛", "悠真", "紬")
ROMAJI_FAMILY = (
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Ito",
    "Watanabe",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
)
ROMAJI_GIVEN = ("Ayaka", "Ren", "Haruto", "Yui", "Minato", "Aoi", "Yamato", "Rin", "Yuma", "Tsumugi")


def raw_sign_rate(seconds: float = 1.0) -> float:
    """Ed25519 signatures per second through `keys`, one core."""
    key = keys.SigningKey.generate()
    message = b"x" * 200
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            key.sign(message)
        count += 200
    return count / (time.perf_counter() - start)


def write_members(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["kind", "url", "name", "deny", "on_behalf_of", "authority", "territory", "ref"])
        for n in range(rows):
            family, given = n % 10, (n // 10) % 10
            kanji = f"{FAMILY[family]}{GIVEN[given]}"
            romaji = f"{ROMAJI_GIVEN[given]} {ROMAJI_FAMILY[family]} {n}"
            out.writerow(
                [
                    "voice",
                    f"https://voices.example.com/members/{n}/",
                    f"{kanji}{n}|{romaji}",
                    "train-ai,generate",
                    kanji,
                    "専属マネジメント契約 (exclusive management agreement), 2024",
                    "JP",
                    f"M-{n:05d}",
                ]
            )


def run_import(csv_path: Path, key: Path, url: str, batch: int | None) -> tuple[float, dict[str, object]]:
    argv = [
        *kotowari_command(),
        "claim",
        "import",
        str(csv_path),
        "--key",
        str(key),
        "--registry",
        url,
        "--json",
    ]
    if batch:
        argv += ["--batch", str(batch)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3600, env=env, cwd=csv_path.parent)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"claim import exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="members in the file")
    parser.add_argument("--batch", type=int, help="rows per request (default: the CLI's)")
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL cluster and use it"
    )
    args = parser.parse_args()
    cluster, db = None, None
    if args.postgres:
        bindir = postgres_bindir()
        if bindir is None:
            parser.error("--postgres needs the PostgreSQL server binaries (apt-get install postgresql)")
        cluster = ThrowawayPostgres(bindir)
        db = cluster.start()
    work = Path(tempfile.mkdtemp(prefix="kotowari-bench-import-"))
    server = None
    try:
        before = raw_sign_rate()
        members = work / "members.csv"
        write_members(members, args.rows)
        key = work / "agency.key"
        keys.write_key_file(key, keys.SigningKey.generate())
        server = start_server(work / "data", db)
        first, summary = run_import(members, key, server.url, args.batch)
        if summary["filed"] != args.rows or summary["failed"]:
            raise SystemExit(f"the import did not file every row: {summary}")
        again, rerun = run_import(members, key, server.url, args.batch)
        if rerun["filed"] != 0 or rerun["already_filed"] != args.rows:
            raise SystemExit(f"the re-run filed something: {rerun}")
        after = raw_sign_rate()
    finally:
        if server is not None:
            stop_server(server)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    baseline = (before + after) / 2
    rate = args.rows / first
    backend = "postgresql" if db else "sqlite"
    print(f"database {backend}, {args.rows:,} rows, one `kotowari claim import` process")
    print(f"raw Ed25519 sign (baseline)   {baseline:10,.0f} /s   (before {before:,.0f}, after {after:,.0f})")
    print(
        f"claim import, first run       {rate:10,.0f} claims/s   = {rate / baseline:.4f} x raw sign"
        f"   ({first:.1f} s)"
    )
    print(f"claim import, re-run          {args.rows / again:10,.0f} rows/s, nothing filed   ({again:.1f} s)")


if __name__ == "__main__":
    main()
