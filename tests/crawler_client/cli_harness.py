"""`run`, which the CLI test modules share: `kotowari ARGV` in this process, its exit status, standard
output and standard error, and never a traceback."""

from __future__ import annotations

import pytest

from crawler_client.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err
