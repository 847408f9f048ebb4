"""Every ```sh block of the README is run by some test; "Run it" and "Test it" are checked here.

`RUN_BY` names, for each README heading that holds ```sh blocks, the test module that runs them
(through `tests/crawler_client/readme.py`). `test_every_sh_block_is_run` fails when a heading with a
shell block is missing from it, so no shell example can be added to the README unrun; and an entry
must name a module that asks for that section's blocks, so the list cannot claim what nobody does.

"Run it" and "Test it" install packages and run the test suite itself, which no test should do
again; what they say is checked instead: the install commands name extras that exist and hold what
the next command needs, `kotowari serve` as written (no flags) serves a registry from
`./kotowari-data`, and the test command is exactly the one `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, free_port, kotowari_command, start_process, stop_server
from tests.crawler_client.readme import README, blocks, languages, sh_headings

ROOT = README.parent
WALKTHROUGHS = "tests/crawler_client/test_readme_walkthroughs.py"
AUTHORITY = "tests/crawler_client/test_authority_walkthroughs.py"
ACCOUNTABILITY = "tests/crawler_client/test_accountability_walkthroughs.py"

RUN_BY: dict[str, str] = {
    "Run it": "tests/test_readme_shell.py",
    "Test it": "tests/test_readme_shell.py",
    "Five minutes as a creator": WALKTHROUGHS,
    "Works, voices and likenesses": WALKTHROUGHS,
    "A publisher verifying its domain": AUTHORITY,
    "An agency filing under its members' mandates": AUTHORITY,
    "An AI developer filtering with --min-authority domain-verified": AUTHORITY,
    "A creator rotating and recovering a key": AUTHORITY,
    "As an agency": WALKTHROUGHS,
    "Many members at once": "tests/crawler_client/test_claim_import.py",
    "Offline: snapshots, dataset filtering and the compliance manifest": WALKTHROUGHS,
    "As a crawler": WALKTHROUGHS,
    "As an auditor: the transparency log": WALKTHROUGHS,
    "A full independent audit": "tests/crawler_client/test_audit.py",
    "Witnessed checkpoints": "tests/crawler_client/test_witness_cli.py",
    "Publishing reads to a static server or CDN": "tests/crawler_client/test_publish.py",
    "Disclosing a model and proving its training data": ACCOUNTABILITY,
    "Answering an authority": ACCOUNTABILITY,
    "As a regulator or journalist": ACCOUNTABILITY,
    "Takedown notices": WALKTHROUGHS,
    "Personal data: who sees what, erasure, retention": WALKTHROUGHS,
    "In production": "tests/crawler_client/test_admin_verify.py",
}
"""README heading (the nearest one above a ```sh block) → the test module that runs its blocks."""


def test_every_sh_block_is_run() -> None:
    headings = sh_headings()
    assert headings, "the README has shell examples"
    unrun = sorted(set(headings) - set(RUN_BY))
    assert not unrun, (
        f"README sections whose ```sh blocks no test runs (add a test, then list it here): {unrun}"
    )
    gone = sorted(set(RUN_BY) - set(headings))
    assert not gone, f"listed as run, but these README sections hold no ```sh block: {gone}"


@pytest.mark.parametrize("heading", list(RUN_BY))
def test_the_listed_module_runs_the_section(heading: str) -> None:
    source = (ROOT / RUN_BY[heading]).read_text(encoding="utf-8")
    quoted = (f'"{heading}"', f"'{heading}'")
    assert any(text in source for text in quoted), f"{RUN_BY[heading]} never asks for blocks({heading!r})"


def test_shell_examples_are_marked_sh() -> None:
    """Only ```sh is scanned above: a ```bash or ```console block would slip past it."""
    assert not languages() & {"bash", "shell", "console", "zsh", "shell-session", "sh-session"}


# ------------------------------------------------------------------ Run it


def _commands(block: str) -> list[list[str]]:
    """The commands of a one-line `a && b` block, as words."""
    (line,) = block.strip().splitlines()
    return [shlex.split(part) for part in line.split(" && ")]


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["kotowari"] == "crawler_client.cli:main"
    return dict(project["optional-dependencies"])


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[=<>~!; ]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_run_it_serves_a_registry_from_kotowari_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = blocks("Run it")
    install, serve = _commands(block)
    assert install == ["pip", "install", ".[server]"]
    assert {"starlette", "uvicorn", "tortoise-orm", "aiosqlite"} <= _names(_extras()["server"])
    assert serve == ["kotowari", "serve"]

    from api.settings import Settings

    defaults = Settings.from_env({})  # "Nothing to configure": the README's address and directory
    assert (defaults.host, defaults.port, defaults.data_dir) == ("127.0.0.1", 8000, Path("kotowari-data"))

    # As written, in a fresh directory; only the port differs, through the environment (8000 may be
    # taken on a machine running tests), so that the command line stays the README's.
    for name in list(os.environ):
        if name.startswith("KOTOWARI_"):
            monkeypatch.delenv(name)
    port = free_port()
    monkeypatch.setenv("KOTOWARI_PORT", str(port))
    monkeypatch.chdir(tmp_path)
    url = f"http://127.0.0.1:{port}"
    process, banner = start_process([*kotowari_command(), *serve[1:]], f"{url}/healthz", 60.0)
    running = ServerProcess(url=url, data_dir=tmp_path / "kotowari-data", process=process, banner=banner)
    try:
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        did = httpx.get(f"{url}/v1/registry").json()["did"]
        assert did in banner and f"listening on {url}" in banner  # "It prints its DID and where it listens"
        key = running.data_dir / "registry.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert (running.data_dir / "kotowari.sqlite3").is_file()
    finally:
        stop_server(running)


# ------------------------------------------------------------------ Test it


def test_test_it_is_what_ci_runs() -> None:
    (block,) = blocks("Test it")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == block.strip(), ".ci/run must end with the README's test command"
    install, run = _commands(block)
    assert install == ["pip", "install", "-e", ".[test]"]
    assert {"pytest", "pytest-asyncio", "pytest-xdist", "hypothesis"} <= _names(_extras()["test"])
    assert run == ["python3", "-m", "pytest"]
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    assert options["ini_options"]["testpaths"] == ["tests"]

    # what the section says around it: CI installs PostgreSQL and requires both passes; the
    # benchmarks it names exist
    assert "apt-get install -y -qq postgresql" in ci and "KOTOWARI_REQUIRE_POSTGRES=1" in ci
    section = README.read_text(encoding="utf-8").split("\n## Test it\n", 1)[1].split("\n## ", 1)[0]
    benchmarks = re.findall(r"`(bench/\w+\.py)`", section)
    assert benchmarks and all((ROOT / name).is_file() for name in benchmarks), benchmarks
