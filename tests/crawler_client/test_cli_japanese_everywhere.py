"""Issue 16's last gap: under a Japanese locale every line the `kotowari` command prints is Japanese,
errors included, wherever its English came from: the registry's refusals (asked for in Japanese with
Accept-Language), the registry's pure modules (URLs, identifiers, snapshots, keys), the SDK's own
reasons (verify, policy and its signals, fingerprints, an unreachable registry), `kotowari serve`.

The scan: the real command against a real `kotowari serve` and a real web site on 127.0.0.1, each
kind of error triggered; every output line must hold Japanese and no run of three English words once
what is quoted, URLs, DIDs, paths, flags and ids are taken out. Also: the catalogs of the SDK's
texts are complete, the locale is read in gettext's order, the registry is asked for Japanese only
under a Japanese locale, and Japanese help wraps at the terminal's width counted in columns.
"""

from __future__ import annotations

import http.server
import json
import re
import socketserver
import string
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler_client import i18n
from crawler_client.cli_help import display_width, wrap
from crawler_client.i18n_build import SDK_DOMAIN, extract_sdk
from registry.po_files import compile_mo, parse_po
from tests.conftest import ServerProcess
from tests.crawler_client.cli_harness import run_process

JA = {"LANG": "ja_JP.UTF-8"}
SDK_PO = Path(i18n.LOCALE_DIR) / "ja" / "LC_MESSAGES" / f"{SDK_DOMAIN}.po"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

_VALUES = [
    re.compile(r"'[^']*'|\"[^\"]*\"|「[^」]*」"),  # what was typed or named, quoted
    re.compile(r"\S+://\S*"),  # URLs
    re.compile(r"did:[a-z]+:\S+"),  # DIDs
    re.compile(r"--?[a-z][a-z0-9-]*"),  # flags
    re.compile(r"\S*[/\\.]\S*"),  # paths, file names, host names, JSON pointers
    re.compile(r"\S*\d\S*"),  # ids, sizes, hashes, errno
    re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b"),  # an exception's class name
]
_ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}\b")


def english_runs(line: str) -> list[str]:
    """Runs of three or more English words in `line` outside values (the heuristic of the scan)."""
    for pattern in _VALUES:
        line = pattern.sub(" ", line)
    return [found.group() for found in _ENGLISH_RUN.finditer(line)]


def test_the_heuristic_finds_english_sentences_and_ignores_values() -> None:
    assert english_runs("kotowari: エラー: the registry could not be reached") != []
    assert english_runs("留保 'a claim by me' を did:key:z6Mk… が https://x.example/a b c で") == []
    assert english_runs("無効です: ConnectError: [Errno 111] 接続を拒否されました（4 回試行）") == []


@dataclass
class Ran:
    argv: tuple[str, ...]
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.out + self.err).splitlines() if line.strip()]


def kotowari(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> Ran:
    done = run_process(cwd, argv, {"TZ": "Asia/Tokyo", "COLUMNS": "100", **(env if env is not None else JA)})
    return Ran(argv, done.returncode, done.stdout, done.stderr)


# ---------------------------------------------------------------- a registry and a web site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A web site on 127.0.0.1 whose robots.txt keeps every crawler out of /private/."""
    root = tmp_path_factory.mktemp("site")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    (root / "index.html").write_text("<html><head></head><body>hi</body></html>", encoding="utf-8")

    def handler(*args: object, **kwargs: object) -> _Quiet:
        return _Quiet(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, registry: ServerProcess) -> Path:
    """Keys, a filed claim, a tampered copy, a snapshot and some broken files."""
    folder = tmp_path_factory.mktemp("work")
    for name in ("me.key", "other.key"):
        assert kotowari(folder, "keys", "new", "--out", name).status == 0
    made = kotowari(
        folder,
        *("claim", "new", "--key", "me.key", "--kind", "work", "--url", "https://example.com/a/"),
        *("--deny", "train-ai", "--out", "claim.json"),
    )
    assert made.status == 0, made.err
    filed = kotowari(folder, "claim", "file", "claim.json", "--registry", registry.url)
    assert filed.status == 0, filed.err
    (folder / "claim.id").write_text(filed.out.strip(), encoding="utf-8")
    claim = json.loads((folder / "claim.json").read_text(encoding="utf-8"))
    claim["uses"] = {"train-ai": "maybe"}
    (folder / "bad-use.json").write_text(json.dumps(claim), encoding="utf-8")
    claim["uses"] = {"train-ai": "n"}
    claim["subject"]["identifiers"][0]["value"] = "ftp://example.com/"
    (folder / "bad-url.json").write_text(json.dumps(claim), encoding="utf-8")
    assert kotowari(folder, "snapshot", "pull", "--registry", registry.url, "--out", "s.bin").status == 0
    (folder / "junk.bin").write_bytes(b"not a snapshot at all")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (folder / "dup.json").write_text('{"a": 1, "a": 2}', encoding="utf-8")
    return folder


def scenarios(registry: str, site: str, claim_id: str) -> list[tuple[str, ...]]:
    """One command per kind of error (and some successes), each printing something a person reads."""
    closed = "http://127.0.0.1:9"
    return [
        # the registry's refusals: replay, schema, URL, someone else's claim, unknown ids, bad values
        ("claim", "file", "claim.json", "--registry", registry),
        ("claim", "file", "bad-use.json", "--registry", registry),
        ("claim", "file", "bad-url.json", "--registry", registry),
        ("claim", "withdraw", claim_id, "--key", "other.key", "--registry", registry),
        ("claim", "withdraw", "0" * 64, "--key", "me.key", "--registry", registry),
        ("notice", "show", "0" * 64, "--registry", registry),
        ("operator", "show", "did:key:zzz", "--registry", registry),
        # verify: a tampered document, strict JSON, a good one
        ("verify", "bad-use.json"),
        ("verify", "dup.json"),
        ("verify", "claim.json"),
        # the registry's pure modules, client side: URLs, identifiers, snapshots, fingerprints
        ("check", "--registry", registry, "--purpose", "train-ai", "--url", "ftp://example.com/a"),
        ("check", "--registry", registry, "--purpose", "train-ai", "--sha256", "abc"),
        ("check", "--registry", registry, "--purpose", "train-ai", "--iscc", "ISCC:XYZ"),
        ("check", "--registry", registry, "--purpose", "train-ai", "--isni", "1234"),
        ("check", "--snapshot", "junk.bin", "--purpose", "train-ai", "--url", "https://example.com/a/b"),
        ("check", "--snapshot", "s.bin", "--purpose", "train-ai", "--file", "broken.png"),
        ("check", "--snapshot", "s.bin", "--purpose", "train-ai", "--url", "https://example.com/a/b"),
        ("url", "ftp://x"),
        # the SDK: an unreachable registry, policy and its signals' reasons
        ("check", "--registry", closed, "--purpose", "train-ai", "--url", "https://example.com/"),
        ("policy", f"{site}/private/a", "--purpose", "train-ai", "--user-agent", "Bot", "--allow-private"),
        ("policy", f"{site}/", "--purpose", "train-ai", "--user-agent", "Bot", "--allow-private"),
        ("policy", f"{closed}/", "--purpose", "train-ai", "--user-agent", "Bot", "--allow-private"),
        # keys and serve
        ("keys", "new", "--out", "me.key"),
        ("serve", "--db", "mysql://nowhere", "--port", "1"),
        ("serve", "--port", "99999"),
    ]


def test_every_line_is_japanese_under_a_japanese_locale(
    work: Path, registry: ServerProcess, site: str
) -> None:
    claim_id = (work / "claim.id").read_text(encoding="utf-8")
    untranslated = []
    for argv in scenarios(registry.url, site, claim_id):
        ran = kotowari(work, *argv)
        assert ran.lines, argv
        for line in ran.lines:
            if line.startswith(("使い方: ", "                ")):
                continue  # argparse's usage lines: command and flag names
            runs = english_runs(line)
            if runs or (not JAPANESE.search(line) and not _only_values(line)):
                untranslated.append((" ".join(argv[:2]), line, runs))
    assert untranslated == []


def _only_values(line: str) -> bool:
    """A line of values alone (a DID, an id, a URL), which no language changes."""
    for pattern in _VALUES:
        line = pattern.sub(" ", line)
    return not re.search(r"[A-Za-z]{3,}", line)


def test_the_same_commands_stay_english_under_an_english_locale(work: Path, registry: ServerProcess) -> None:
    claim_id = (work / "claim.id").read_text(encoding="utf-8")
    argv = ("claim", "withdraw", claim_id, "--key", "other.key", "--registry", registry.url)
    english = kotowari(work, *argv, env={"LANG": "C"})
    assert english.status == 2 and not JAPANESE.search(english.err)
    assert "registry refused (403 Only the claimant may do this)" in english.err
    assert f"claim {claim_id} belongs to" in english.err
    japanese = kotowari(work, *argv)
    assert japanese.status == 2 and "（403 この操作ができるのは表明者だけです）" in japanese.err
    assert f"留保 {claim_id} は " in japanese.err and "は取り下げられません" in japanese.err


@pytest.mark.parametrize(
    ("env", "japanese"),
    [
        ({"LANG": "ja_JP.UTF-8"}, True),
        ({"LC_ALL": "ja_JP.UTF-8", "LANG": "C"}, True),
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, True),
        ({"LANGUAGE": "ja", "LANG": "C"}, True),
        ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, False),
        ({"LANGUAGE": "en", "LC_ALL": "ja_JP.UTF-8"}, False),
    ],
    ids=["LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LC_ALL-C-wins", "LANGUAGE-en-wins"],
)
def test_the_registry_s_words_follow_the_locale_in_gettext_s_order(
    work: Path, registry: ServerProcess, env: dict[str, str], japanese: bool
) -> None:
    ran = kotowari(work, "notice", "show", "0" * 64, "--registry", registry.url, env=env)
    assert ran.status == 2
    said = "削除要請はありません" in ran.err  # the registry's own detail, asked for in Japanese
    assert said == japanese and bool(JAPANESE.search(ran.err)) == japanese, ran.err
    local = kotowari(work, "url", "ftp://x", env=env)  # a reason of registry/urls.py, client side
    assert ("http(s) の URL ではありません" in local.err) == japanese, local.err


def test_the_registry_is_asked_for_japanese_only_under_a_japanese_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crawler_client.client import Client

    with Client("http://127.0.0.1:9") as plain:
        assert "accept-language" not in plain._http.headers
    with i18n.answers_in("ja"), Client("http://127.0.0.1:9") as asking:
        assert asking._http.headers["accept-language"] == "ja"
    with i18n.answers_in("en"), Client("http://127.0.0.1:9") as english:
        assert "accept-language" not in english._http.headers
    assert i18n.answer_headers() == {}


# ---------------------------------------------------------------- the SDK's catalog


SDK_ENTRIES = [entry for entry in parse_po(SDK_PO.read_text(encoding="utf-8")) if entry.msgid]


def test_every_sdk_text_is_in_its_catalog_translated_with_the_same_placeholders() -> None:
    found, _dynamic = extract_sdk()
    held = {entry.msgid: entry for entry in SDK_ENTRIES}
    assert sorted(m.msgid for m in found if m.msgid not in held) == [], (
        "python -m crawler_client.i18n_build --update"
    )
    assert sorted(set(held) - {m.msgid for m in found}) == []
    assert [entry.msgid for entry in SDK_ENTRIES if not entry.translated] == []

    def names(text: str) -> set[str]:
        return {name for _l, name, _s, _c in string.Formatter().parse(text) if name}

    assert [e.msgid for e in SDK_ENTRIES if names(e.msgid) != names(e.msgstr[0])] == []
    assert SDK_PO.with_suffix(".mo").read_bytes() == compile_mo(parse_po(SDK_PO.read_text(encoding="utf-8")))


def test_said_translates_sdk_and_registry_texts_inside_a_japanese_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert i18n.said("robots.txt unreachable: no answer") == "robots.txt に到達できません: no answer"
    assert i18n.said("--url 'ftp://x': invalid URL: no host（url/value）") == (
        "--url 'ftp://x': URL が不正です: ホストがありません（url/value）"
    )
    assert i18n.said("a sentence nobody wrote") == "a sentence nobody wrote"
    monkeypatch.setenv("LANG", "C")
    assert i18n.said("invalid URL: no host") == "invalid URL: no host"


# ---------------------------------------------------------------- help by display width


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_japanese_help_fits_the_terminal_counted_in_columns(tmp_path: Path, columns: int) -> None:
    for argv in (("claim", "new", "--help"), ("check", "--help"), ("policy", "--help"), ("--help",)):
        ran = kotowari(tmp_path, *argv, env={"LANG": "ja_JP.UTF-8", "COLUMNS": str(columns)})
        assert ran.status == 0 and JAPANESE.search(ran.out)
        body = ran.out.split("\n\n", 1)[1]  # argparse's usage lines wrap command tokens, as in English
        too_wide = [
            line for line in body.splitlines() if display_width(line) > columns - 2 and " " in line.strip()
        ]
        assert too_wide == [], (argv, columns)


def test_english_help_is_wrapped_as_argparse_always_did(tmp_path: Path) -> None:
    import argparse

    from crawler_client.cli import build_parser

    ours = build_parser()  # in this process's locale: English
    text = ours.format_help()
    ours.formatter_class = argparse.HelpFormatter
    assert text == ours.format_help()


@given(st.text(alphabet=st.sampled_from(list("abc de,.()") + [" "] * 3), max_size=200), st.integers(4, 60))
def test_text_without_wide_characters_wraps_exactly_as_textwrap(text: str, width: int) -> None:
    collapsed = " ".join(text.split())
    assert wrap(collapsed, width) == textwrap.wrap(collapsed, width)


@given(
    st.text(alphabet=st.sampled_from(list("留保する利用、。（）「」ab cd-ef ")), max_size=200),
    st.integers(2, 60),
)
def test_wide_text_never_passes_the_width_and_loses_nothing(text: str, width: int) -> None:
    collapsed = " ".join(text.split())
    lines = wrap(collapsed, width)
    assert all(display_width(line) <= width for line in lines), lines
    assert "".join(collapsed.split()) == "".join("".join(lines).split())


def test_closing_marks_do_not_start_a_line_nor_opening_brackets_end_one() -> None:
    assert wrap("あいう、えお", 6) == ["あい", "う、え", "お"]
    assert wrap("あい（うえ）お", 6) == ["あい", "（う", "え）お"]
    assert wrap("留保する利用（train-ai, generate など）", 20) == [
        "留保する利用",
        "（train-ai, generate",
        "など）",
    ]
