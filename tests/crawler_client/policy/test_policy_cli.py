"""`kotowari policy`: exit 0 allowed, 1 disallowed, 2 bad input (one line on stderr)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crawler_client.cli import main

from .conftest import Site


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["policy", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_allowed_url_exits_0_and_lists_every_signal(site: Site, capsys: Any) -> None:
    site.route("/a", "hello", headers={"Content-Usage": "train-ai=y"})
    status, out, _ = run(
        capsys, site.url("/a"), "--purpose", "train-ai", "--user-agent", "ExampleBot", "--allow-private"
    )
    assert status == 0
    assert out.startswith("allowed:")
    assert "robots.txt (pre-fetch)" in out and "aipref Content-Usage header (post-fetch)" in out
    assert "/a" in site.paths()


def test_reserved_url_exits_1_without_fetching(site: Site, capsys: Any) -> None:
    site.route("/.well-known/tdmrep.json", '[{"location": "/", "tdm-reservation": 1}]')
    status, out, _ = run(
        capsys, site.url("/a"), "--purpose", "train-ai", "--user-agent", "ExampleBot", "--allow-private"
    )
    assert status == 1
    assert out.startswith("disallowed:") and "TDMRep" in out
    assert "/a" not in site.paths()


def test_json_output_is_the_whole_decision(site: Site, capsys: Any) -> None:
    site.route("/a", "x", headers={"X-Robots-Tag": "noai"})
    status, out, _ = run(
        capsys,
        site.url("/a"),
        "--purpose",
        "train-ai",
        "--user-agent",
        "ExampleBot",
        "--allow-private",
        "--json",
    )
    decision = json.loads(out)
    assert status == 1
    assert decision["allowed"] is False and decision["stage"] == "post-fetch"
    assert any(s["source"] == "X-Robots-Tag" and s["verdict"] == "n" for s in decision["signals"])


def test_pre_fetch_only_does_not_fetch(site: Site, capsys: Any) -> None:
    status, _out, _ = run(
        capsys,
        site.url("/a"),
        "--purpose",
        "search",
        "--user-agent",
        "B",
        "--allow-private",
        "--pre-fetch-only",
    )
    assert status == 0
    assert "/a" not in site.paths()


def test_private_address_without_flag_is_disallowed(site: Site, capsys: Any) -> None:
    status, out, _ = run(capsys, site.url("/a"), "--purpose", "search", "--user-agent", "ExampleBot")
    assert status == 1
    assert "loopback" in out
    assert site.paths() == []


def test_unreachable_registry_fails_closed(site: Site, capsys: Any) -> None:
    status, out, _ = run(
        capsys,
        site.url("/a"),
        "--purpose",
        "train-ai",
        "--user-agent",
        "ExampleBot",
        "--allow-private",
        "--registry",
        "http://127.0.0.1:9/",
        "--timeout",
        "2",
    )
    assert status == 1
    assert "registry check failed" in out


@pytest.mark.parametrize(
    "args",
    [
        ["not a url", "--purpose", "search", "--user-agent", "B"],
        ["ftp://e.example/", "--purpose", "search", "--user-agent", "B"],
        ["https://e.example/", "--purpose", "search", "--user-agent", "/1.0"],
        ["https://e.example/", "--purpose", "search", "--user-agent", "B", "--timeout", "0"],
        ["https://e.example/", "--purpose", "search", "--user-agent", "B", "--registry", "nope"],
        ["https://e.example/", "--purpose", "search", "--user-agent", "B", "--snapshot", "/nonexistent/snap"],
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], capsys: Any) -> None:
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_purpose_is_a_usage_error(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["policy", "https://e.example/", "--purpose", "sell", "--user-agent", "B"])
    assert exited.value.code == 2
    assert "unknown use 'sell'" in capsys.readouterr().err


def test_registry_and_snapshot_are_exclusive(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main(
            [
                "policy",
                "https://e.example/",
                "--purpose",
                "search",
                "--user-agent",
                "B",
                "--registry",
                "http://r",
                "--snapshot",
                "f",
            ]
        )
    assert "not allowed with" in capsys.readouterr().err
