"""`run`, which the CLI test modules share: `kotowari ARGV` in this process, its exit status, standard
output and standard error, and never a traceback; `run_process`, the same in a child process under a
chosen locale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler_client.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def run_process(cwd: Path, argv: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m crawler_client.cli ARGV` in `cwd` with no locale or registry from this shell, then `env`."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "KOTOWARI_REGISTRY"):
        environment.pop(name, None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "crawler_client.cli", *argv],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done
