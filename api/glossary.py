"""The portal's Japanese glossary: one word per concept, the English beside it, and the variants that
must not appear. `api.copy` (the catalog) is written in these words, and
tests/api/test_portal_copy.py holds every Japanese string to them.

Why a glossary: a creator reads 留保 on one page and 拒否 on the next and wonders whether they are
two different things; a notice form that says 削除依頼 here and 削除要請 there reads like two forms.
Legal terms follow the statutes (著作権法, 情報流通プラットフォーム対処法 and its 送信防止措置,
申出者, 侵害情報), not literal translations of the English ("under penalty of perjury" is not
「偽証罪の制裁のもと」: Japanese law has no perjury for a private statement, so the notice says what
the signer accepts instead).

Politeness: every sentence (text ending in 。) is in です・ます form; labels and buttons are noun
phrases or plain verbs (「署名して提出」), as Japanese interfaces write them.

>>> term("reserve").ja
'留保'
>>> "拒否" in term("reserve").banned
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Term:
    """One concept: the Japanese word used for it, the English, what English text names it (a regex
    over a catalog entry's English: where it matches, the Japanese must hold `ja`), the variants that
    must never appear, and a note for translators."""

    concept: str
    ja: str
    en: str
    en_pattern: str | None = None
    banned: tuple[str, ...] = ()
    note: str = ""


GLOSSARY: Final[tuple[Term, ...]] = (
    Term(
        "reserve",
        "留保",
        "reserve / reservation (opt out of an AI use)",
        r"(?i)\breserv(e|ed|es|ation|ations)\b",
        ("拒否する利用", "利用拒否", "AI 利用拒否", "オプトアウト"),
        "The EU's TDM opt-out is 権利の留保 in Japanese commentary; a claim reserves uses. 拒否 is "
        "never used for it (an operator's decision not to act is 措置しない).",
    ),
    Term(
        "claim",
        "留保",
        "claim (the signed reservation)",
        r"(?i)(?<!kotowari )\bclaims?\b(?! ids?\b)",
        ("登録内容", "登録 ID", "登録を探す"),
        "A claim is a reservation: 留保, its id 留保 ID. 登録 is kept for operators registering.",
    ),
    Term("claim-id", "留保 ID", "claim id", r"(?i)\bclaim ids?\b", ("登録 ID",)),
    Term(
        "claimant",
        "表明者",
        "claimant (who signed the claim)",
        r"(?i)\bclaimants?\b",
        ("登録者",),
    ),
    Term(
        "file",
        "提出",
        "file (send a signed document to the registry)",
        r"(?i)\b(sign and file|filed|filing)\b",
        ("署名して登録", "登録しました"),
    ),
    Term("registry", "レジストリ", "the registry", r"(?i)\bregistry\b", ("登録所", "登録簿")),
    Term(
        "register",
        "登録",
        "an operator registers to receive notices",
        r"(?i)\b(registers?|registered|unregistered|registration)\b",
        (),
        "Only operators register; 登録 means nothing else on the portal.",
    ),
    Term("withdraw", "取り下げ", "withdraw", r"(?i)\bwithdraw(n|s|al|ing)?\b", ("撤回",)),
    Term(
        "notice",
        "削除要請",
        "takedown notice",
        r"(?i)(?<!counter-)(?<!counter )(?<!act )\bnotices?\b(?!-)",
        ("削除依頼", "削除申請", "テイクダウン", "削除通知"),
        "For the Japanese act, the notice is also 送信防止措置の申出 (its statutory name).",
    ),
    Term("notifier", "申出者", "notifier (who files a notice)", r"(?i)\bnotifiers?\b", ("通知者", "要請者")),
    Term("operator", "事業者", "AI operator", r"(?i)\boperators?\b", ("オペレーター", "運営者")),
    Term(
        "measure",
        "措置",
        "take down / act on a notice (送信防止措置)",
        r"(?i)\bactioned\b",
        ("対応済み",),
        "情報流通プラットフォーム対処法's 送信防止措置; actioned 措置済み, rejected 措置しない判断.",
    ),
    Term(
        "counter-notice",
        "異議申立て",
        "counter-notice",
        r"(?i)\bcounter-?notice",
        ("異議申し立て", "反論通知", "カウンターノーティス"),
    ),
    Term("acknowledge", "受領確認", "acknowledge (receipt)", r"(?i)\backnowledge", ("受け取り確認",)),
    Term(
        "key",
        "鍵",
        "key (signing key)",
        r"(?i)(?<!did:)(?<!kotowari )\bkeys?\b",
        ("キーファイル", "私有鍵", "秘密キー"),
    ),
    Term("private-key", "秘密鍵", "private key", r"(?i)\bprivate keys?\b", ("プライベートキー",)),
    Term("passkey", "パスキー", "passkey", r"(?i)\bpasskeys?\b", ("パスワードレス",)),
    Term(
        "recovery", "復旧", "recovery (of a lost key)", r"(?i)\brecover(y|ies)?\b", ("リカバリー", "回復鍵")
    ),
    Term("rotate", "鍵の交換", "key rotation", r"(?i)\brotat(e|ion)\b", ("ローテーション",)),
    Term("log", "ログ", "the transparency log", r"(?i)\blog\b", ("台帳",)),
    Term("log-size", "記録件数", "log size", r"(?i)\blog size\b", ("ログの大きさ",)),
    Term(
        "authority",
        "裏付け",
        "authority (how far a claim is checked)",
        r"(?i)^(base |kinds of )?authority$",
        ("権威",),
    ),
    Term(
        "generate",
        "まねた生成",
        "imitative generation (the `generate` use)",
        r"(?i)\bimitative generation\b",
        ("模倣の生成",),
    ),
    Term(
        "perjury",
        "偽証罪",
        "under penalty of perjury",
        r"(?i)\bperjury\b",
        ("偽証罪の制裁のもと",),
        "Said as what the signer accepts: 虚偽であれば偽証罪（米国法）に問われうることを承知のうえで.",
    ),
    Term("copyright", "著作権", "copyright", r"(?i)\bcopyright\b", ("コピーライト",)),
    Term("voice", "声", "voice", r"(?i)\bvoices?\b", ("ボイス",)),
    Term("likeness", "肖像", "likeness", r"(?i)\blikeness", ("ルックス",)),
    Term("sign", "署名", "sign / signature", r"(?i)\bsign(ed|s|ing|ature)?\b", ("サイン",)),
    Term(
        "nonce",
        "ノンス",
        "nonce (a value a signed request uses once)",
        r"(?i)\bnonces?\b",
        ("ナンス", "nonce が", "nonce は"),
        "The registry's refusals say ノンス; the command line says it the same way.",
    ),
)
"""Every concept once. `en_pattern` is matched against the English of each catalog entry."""

BANNED_EVERYWHERE: Final[tuple[str, ...]] = tuple(variant for entry in GLOSSARY for variant in entry.banned)

POLITE_ENDINGS: Final[tuple[str, ...]] = (
    "です",
    "ます",
    "ください",
    "ません",
    "でした",
    "ました",
    "でしょう",
    "ましょう",
)
"""How a Japanese sentence may end (before 。, closing brackets and quotes aside)."""


def term(concept: str) -> Term:
    """The glossary entry for `concept`; KeyError if there is none."""
    for entry in GLOSSARY:
        if entry.concept == concept:
            return entry
    raise KeyError(concept)
