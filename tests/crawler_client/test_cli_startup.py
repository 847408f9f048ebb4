"""`kotowari` starts without importing what the command does not use (issue 14).

Each command runs in a fresh interpreter, which then lists the top-level packages it has imported:
none of the heavy ones (Arrow, NumPy, image hashing, ISCC, the server) may be among them for a
command that does not need them, nor httpx, pydantic or cryptography where the command has no use
for them. No timing here: bench/startup.py measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler_client.cli import main

ROOT = Path(__file__).resolve().parents[2]

HEAVY = frozenset(
    {
        "numpy",
        "pyarrow",
        "PIL",
        "pdqhash",
        "iscc_core",
        "ahocorasick",
        "starlette",
        "tortoise",
        "uvicorn",
        "jinja2",
    }
)
"""Not needed by any command below; each costs from a few to hundreds of milliseconds."""

NO_CLIENT = HEAVY | {"httpx"}  # commands that talk to no registry
OFFLINE_NO_SCHEMAS = NO_CLIENT | {"pydantic"}  # ... and validate no document against its model
PARSER_ONLY = OFFLINE_NO_SCHEMAS | {"cryptography", "rfc8785"}  # ... and sign or verify nothing

RUN = """
import json, sys
from crawler_client.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
print("\\n" + json.dumps({"status": status, "loaded": loaded}))
"""


def loaded_by(argv: list[str], cwd: Path) -> tuple[object, set[str]]:
    """Run `kotowari ARGV` in a fresh interpreter: its exit status and the packages it imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KOTOWARI_REGISTRY", None)
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["status"], set(report["loaded"])


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A key file `k.key` and a claim signed with it, `claim.json`, in `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "new", "--out", "k.key"]) == 0
    assert main([*CLAIM_NEW, "--out", "claim.json"]) == 0
    rows = "kind,url,deny\nwork,https://example.com/a/,train-ai\n"
    (tmp_path / "rows.csv").write_text(rows, encoding="utf-8")
    capsys.readouterr()
    return tmp_path


CLAIM_NEW = [
    *("claim", "new", "--key", "k.key", "--kind", "work"),
    *("--url", "https://example.com/art/", "--name", "山田花子", "--deny", "train-ai,generate"),
]


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["--help"], PARSER_ONLY),
        (["claim", "new", "--help"], PARSER_ONLY),
        (["check", "--help"], PARSER_ONLY),
        (["claim", "import", "--help"], PARSER_ONLY),
        (["claim", "list", "--help"], PARSER_ONLY),
        (["claim", "import", "rows.csv", "--key", "k.key", "--dry-run"], NO_CLIENT),
        (["filter", "--help"], PARSER_ONLY),
        (["url", "https://Example.com/a/../b"], PARSER_ONLY),
        (["keys", "new", "--out", "new.key"], OFFLINE_NO_SCHEMAS),
        (["verify", "claim.json"], OFFLINE_NO_SCHEMAS),
        ([*CLAIM_NEW, "--out", "again.json"], NO_CLIENT),
    ],
    ids=[
        "help",
        "claim-new-help",
        "check-help",
        "claim-import-help",
        "claim-list-help",
        "claim-import-dry-run",
        "filter-help",
        "url",
        "keys-new",
        "verify",
        "claim-new",
    ],
)
def test_a_light_command_imports_nothing_it_does_not_use(
    signed: Path, argv: list[str], refused: frozenset[str]
) -> None:
    status, loaded = loaded_by(argv, signed)
    assert status == 0
    assert "crawler_client" in loaded and "argparse" in loaded  # the report is the command's own
    assert sorted(loaded & refused) == []


def test_the_cli_tells_a_snapshot_by_the_snapshot_formats_own_magic() -> None:
    from crawler_client import cli
    from registry.snapshot import DELTA_MAGIC, FULL_MAGIC

    assert cli.SNAPSHOT_MAGIC == (FULL_MAGIC, DELTA_MAGIC)


def test_the_packages_export_their_names_on_first_use() -> None:
    import crawler_client
    import crawler_client.audit

    for package in (crawler_client, crawler_client.audit):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018
