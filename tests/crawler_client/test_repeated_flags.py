"""A single-value flag given twice is a usage error in every command, not "the last one wins"."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler_client.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--purpose", "train-ai", "--purpose", "search", "--url", "https://a.example/"],
        [
            "claim",
            "new",
            "--key",
            "k.key",
            "--kind",
            "work",
            "--kind",
            "voice",
            "--url",
            "https://a.example/",
        ],
        ["snapshot", "pull", "--out", "a", "--out", "b", "--registry", "http://127.0.0.1:9"],
        ["verify", "x.json", "--key", "z6Mk1", "--key", "z6Mk2"],
    ],
)
def test_a_repeated_single_value_flag_is_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "given more than once" in error


def test_repeatable_flags_and_switches_still_repeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "new", "--out", "k.key"]) == 0
    argv = ["claim", "new", "--key", "k.key", "--kind", "work", "--deny", "train-ai"]
    assert main([*argv, "--url", "https://a.example/", "--url", "https://b.example/", "--out", "c.json"]) == 0
    assert "b.example" in (tmp_path / "c.json").read_text()
    assert main(["url", "https://a.example/", "--json", "--json"]) == 0  # a switch twice is still the switch
