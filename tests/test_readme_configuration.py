"""The README's configuration table names every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"KOTOWARI_[A-Z0-9_]+")


def read_by_the_code() -> set[str]:
    found: set[str] = set()
    for package in ("api", "registry", "crawler_client", "keys"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return found


def in_the_table() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return {name for row in rows for name in VARIABLE.findall(row)}


def test_every_variable_the_code_reads_is_documented() -> None:
    code = read_by_the_code()
    assert "KOTOWARI_DB" in code and len(code) > 20, "the scan finds the settings"
    missing = sorted(code - in_the_table())
    assert not missing, f"not in README's configuration table: {', '.join(missing)}"


def test_the_table_names_no_variable_the_code_ignores() -> None:
    stale = sorted(in_the_table() - read_by_the_code())
    assert not stale, f"README documents variables nothing reads: {', '.join(stale)}"
