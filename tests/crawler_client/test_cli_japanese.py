"""The real `kotowari` command under a Japanese locale, against a real `kotowari serve` (issue 16,
"Japanese first"): help, every class of error (a usage error is one line, exit 2; a refusal by the
registry; a negative result, exit 1) and summaries in Japanese with `LANG=ja_JP.UTF-8`, the same
in English with `LANG=C`; uses typed in Japanese; times in the local time zone; the hint to
register both orders of a Latin-script name; romaji matched however it is written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.vocabulary import JAPANESE_NAMES, USES, parse_uses
from tests.conftest import ServerProcess
from tests.crawler_client.cli_harness import run_process

JA = "ja_JP.UTF-8"
EN = "C"


@dataclass
class Ran:
    status: int
    out: str
    err: str

    @property
    def last_error(self) -> str:
        return self.err.strip().splitlines()[-1]


def kotowari(cwd: Path, lang: str, *argv: str, tz: str = "Asia/Tokyo") -> Ran:
    done = run_process(cwd, argv, {"LANG": lang, "TZ": tz})
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, registry: ServerProcess) -> Path:
    """A folder with two keys and a voice claim over "Kōichi Yamadera" filed in the registry."""
    folder = tmp_path_factory.mktemp("work")
    for name in ("me.key", "other.key"):
        assert kotowari(folder, EN, "keys", "new", "--out", name).status == 0
    made = kotowari(
        folder,
        JA,
        *("claim", "new", "--key", "me.key", "--kind", "声", "--name", "Kōichi Yamadera"),
        *("--name", "Yamadera Kōichi", "--deny", "学習,まねた生成", "--out", "claim.json"),
    )
    assert made.status == 0, made.err
    filed = kotowari(folder, JA, "claim", "file", "claim.json", "--registry", registry.url)
    assert filed.status == 0, filed.err
    (folder / "claim.id").write_text(filed.out.strip(), encoding="utf-8")
    return folder


def has_japanese(text: str) -> bool:
    return re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) is not None


def without_examples(text: str) -> str:
    """`text` without the Japanese it quotes in any language: what was typed, names it accepts."""
    for name in ["学修", "作品", "声", "肖像", *(n for names in JAPANESE_NAMES.values() for n in names)]:
        text = text.replace(name, "")
    return text


# ---------------------------------------------------------------- help and summaries


def test_help_is_in_the_locale_s_language(tmp_path: Path) -> None:
    ja = kotowari(tmp_path, JA, "--help")
    assert ja.status == 0 and ja.out.startswith("使い方: kotowari")
    assert "留保の作成・提出・取り込み・一覧・取り下げ" in ja.out and "削除要請" in ja.out
    flags = kotowari(tmp_path, JA, "claim", "new", "--help").out
    assert (
        "このヘルプを表示して終了" in flags
        and "留保する利用、カンマ区切り" in flags
        and "まねた生成" in flags
    )
    en = kotowari(tmp_path, EN, "--help")
    assert en.out.startswith("usage: kotowari") and "create, file, import, list and withdraw claims" in en.out
    assert not has_japanese(without_examples(en.out))


def test_claim_new_speaks_japanese_takes_japanese_uses_and_hints_at_both_name_orders(tmp_path: Path) -> None:
    assert kotowari(tmp_path, EN, "keys", "new", "--out", "me.key").status == 0
    argv = ["claim", "new", "--key", "me.key", "--kind", "声", "--name", "Koichi Yamadera"]
    ja = kotowari(tmp_path, JA, *argv, "--deny", "学習、まねた生成", "--allow", "検索", "--out", "c.json")
    assert ja.status == 0, ja.err
    assert "注意: 留保は公開され、永久に記録されます" in ja.err
    assert "ヒント: 'Koichi Yamadera' はこの順序でだけ照合されます" in ja.err
    assert "--name 'Yamadera Koichi'" in ja.err
    assert "c.json に書き出しました" in ja.err
    claim = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert claim["subject"]["kind"] == "voice"  # the wire keeps the English tokens
    assert claim["uses"] == {"train-ai": "n", "generate": "n", "search": "y"}

    en = kotowari(tmp_path, EN, *argv, "--deny", "train-ai", "--out", "d.json")
    assert en.status == 0 and "Note: a claim is public and permanent" in en.err
    assert "hint: 'Koichi Yamadera' is matched only in this order" in en.err and not has_japanese(en.err)
    both = kotowari(tmp_path, EN, *argv, "--name", "Yamadera Koichi", "--deny", "train-ai", "--out", "e.json")
    assert both.status == 0 and "hint:" not in both.err  # both orders given: nothing to say
    as_work = ["claim", "new", "--key", "me.key", "--kind", "work", "--name", "Koichi Yamadera"]
    work = kotowari(tmp_path, EN, *as_work, "--deny", "train-ai", "--out", "f.json")
    assert work.status == 0 and "hint:" not in work.err  # a work's title is not a person's name


def test_every_japanese_name_of_every_use_is_accepted() -> None:
    for use, names in JAPANESE_NAMES.items():
        for name in names:
            assert parse_uses(name) == [use], name
            assert parse_uses(f" {name.replace(' ', '')} ,{use}") == [use]  # spaced or not, with its token
    assert parse_uses("ＡＩの学習、生成ＡＩの学習") == ["train-ai", "train-genai"]  # full width, 、
    assert set(JAPANESE_NAMES) == set(USES)
    everything = [name for names in JAPANESE_NAMES.values() for name in names]
    assert len(everything) == len(set(everything))  # no name for two uses


# ---------------------------------------------------------------- usage and input errors: exit 2, one line


@pytest.mark.parametrize(
    ("argv", "japanese", "english"),
    [
        (
            ["claim", "new", "--kind", "work"],
            "kotowari claim new: エラー: 次の引数が必要です: --key",
            "kotowari claim new: error: the following arguments are required: --key",
        ),
        (
            [
                "claim",
                "new",
                "--key",
                "me.key",
                "--kind",
                "work",
                "--url",
                "https://example.com/a/",
                "--deny",
                "学修",
            ],
            "kotowari: エラー: --deny: 不明な利用 '学修' です。",
            "kotowari: error: --deny: unknown use '学修'; give one of train-ai,",
        ),
        (
            ["check", "--purpose", "学修", "--url", "https://example.com/"],
            "kotowari check: エラー: 引数 --purpose: 不明な利用 '学修' です。",
            "kotowari check: error: argument --purpose: unknown use '学修'",
        ),
        (
            ["claim", "list", "--status", "gone", "--registry", "http://127.0.0.1:9"],
            "kotowari claim list: エラー: 引数 --status: 無効な選択です: 'gone'（'active', 'withdrawn' から",
            "kotowari claim list: error: argument --status: invalid choice: 'gone'",
        ),
        (
            ["operator", "list", "--limit", "1", "--limit", "2", "--registry", "http://127.0.0.1:9"],
            "kotowari operator list: エラー: --limit が 2 回以上指定されています。1 回だけ指定してください",
            "kotowari operator list: error: --limit given more than once; give it once",
        ),
        (
            ["verify", "missing.json"],
            "kotowari: エラー: missing.json: ファイルがありません",
            "kotowari: error: missing.json: no such file",
        ),
        (
            [
                "claim",
                "new",
                "--key",
                "nokey.key",
                "--kind",
                "work",
                "--url",
                "https://example.com/a/",
                "--deny",
                "学習",
            ],
            "kotowari: エラー: --key nokey.key: ファイルがありません",
            "kotowari: error: --key nokey.key: no such file",
        ),
        (
            ["claim", "new", "--key", "me.key", "--kind", "work", "--deny", "学習"],
            "kotowari: エラー: 識別子を少なくとも 1 つ指定してください（--url, --file, --name, --isni、…）",
            "kotowari: error: name at least one item (--url, --file, --name, --isni, …)",
        ),
    ],
    ids=["required", "unknown-use", "unknown-purpose", "choice", "repeated", "no-file", "no-key", "no-item"],
)
def test_a_usage_error_is_one_line_in_the_locale_s_language(
    tmp_path: Path, argv: list[str], japanese: str, english: str
) -> None:
    assert kotowari(tmp_path, EN, "keys", "new", "--out", "me.key").status == 0
    for lang, expected in ((JA, japanese), (EN, english)):
        ran = kotowari(tmp_path, lang, *argv)
        assert ran.status == 2 and ran.out == "", (lang, ran)
        lines = ran.err.strip().splitlines()
        usage = lines[:-1]  # argparse's own refusals print the usage first
        assert usage == [] or usage[0].startswith(("使い方: ", "usage: ")), ran.err
        assert lines[-1].startswith(expected), (lang, lines[-1])
        assert has_japanese(without_examples(lines[-1])) == (lang == JA), lines[-1]


# ---------------------------------------------------------------- against the registry


def test_a_refusal_by_the_registry_says_what_it_means(work: Path, registry: ServerProcess) -> None:
    claim_id = (work / "claim.id").read_text(encoding="utf-8")
    argv = ["claim", "withdraw", claim_id, "--key", "other.key", "--registry", registry.url]
    ja = kotowari(work, JA, *argv)
    assert ja.status == 2 and len(ja.err.strip().splitlines()) == 1, ja.err
    assert ja.last_error.startswith(
        "kotowari: エラー: この留保を取り下げられるのは、署名した表明者だけです。"
    )
    assert "レジストリが受け付けませんでした（403" in ja.last_error
    en = kotowari(work, EN, *argv)
    assert en.status == 2 and en.last_error.startswith("kotowari: error: registry refused (403")
    assert "Only the claimant who signed the claim may withdraw it." in en.last_error


def test_a_negative_check_in_japanese_finds_romaji_however_written(
    work: Path, registry: ServerProcess
) -> None:
    claim_id = (work / "claim.id").read_text(encoding="utf-8")
    for written in ("Kouichi Yamadera", "Koichi Yamadera", "KÔICHI YAMADERA"):
        ja = kotowari(work, JA, "check", "--registry", registry.url, "--purpose", "学習", "--name", written)
        assert ja.status == 1, ja  # reserved: a negative result
        first, reason = ja.out.splitlines()[:2]
        assert first.startswith("留保") and written in first
        assert f"留保 {claim_id[:16]}… が、" in reason and "で train-ai を留保しています" in reason
    en = kotowari(
        work, EN, "check", "--registry", registry.url, "--purpose", "train-ai", "--name", "Kouichi Yamadera"
    )
    assert en.status == 1 and en.out.startswith("n ") and "reserves train-ai" in en.out
    text = kotowari(
        work,
        JA,
        "check",
        "--registry",
        registry.url,
        "--purpose",
        "まねた生成",
        "--text",
        "Yamadera Kouichi の声で",
    )
    assert text.status == 1 and text.out.startswith("留保")
    wire = json.loads(
        kotowari(
            work,
            JA,
            "check",
            "--registry",
            registry.url,
            "--purpose",
            "学習",
            "--name",
            "Koichi Yamadera",
            "--json",
        ).out
    )
    assert wire["items"][0]["decision"] == "n" and wire["purpose"] == "train-ai"  # JSON keeps the tokens


def test_no_operator_matching_is_a_negative_result_in_japanese(work: Path, registry: ServerProcess) -> None:
    ja = kotowari(work, JA, "operator", "list", "--name", "誰もいない", "--registry", registry.url)
    assert ja.status == 1 and ja.err.strip() == "一致する登録済みの事業者はいません"
    en = kotowari(work, EN, "operator", "list", "--name", "nobody at all", "--registry", registry.url)
    assert en.status == 1 and en.err.strip() == "no registered operator matches"


def test_times_are_shown_in_the_local_zone_and_stay_utc_in_json(work: Path, registry: ServerProcess) -> None:
    assert kotowari(work, EN, "keys", "new", "--out", "operator.key").status == 0
    registered = kotowari(
        work, JA, "notice", "register", "--key", "operator.key", "--name", "時刻テスト AI",
        "--contact", "ops@example.jp", "--registry", registry.url,
    )  # fmt: skip
    assert registered.status == 0 and "登録済みにしました" in registered.out, registered
    did = registered.out.split()[0]
    wire = json.loads(kotowari(work, JA, "operator", "show", did, "--registry", registry.url, "--json").out)
    assert wire["registered_at"].endswith("Z")  # RFC 3339 UTC, as the registry sent it
    tokyo = kotowari(work, JA, "operator", "show", did, "--registry", registry.url, tz="Asia/Tokyo")
    line = next(line for line in tokyo.out.splitlines() if line.startswith("  登録 "))
    assert re.fullmatch(r"  登録 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+09:00（ログの \d+ 番目）", line), (
        line
    )
    utc = kotowari(work, EN, "operator", "show", did, "--registry", registry.url, tz="UTC")
    line = next(line for line in utc.out.splitlines() if line.startswith("  registered "))
    assert re.fullmatch(
        r"  registered \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+00:00 \(log entry \d+\)", line
    ), line
