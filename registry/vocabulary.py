"""The vocabulary of uses and how several statements about one use combine.

Follows the IETF aipref vocabulary: `train-genai` is a narrower category inside `train-ai`, so a
statement about `train-ai` applies to `train-genai` unless the statement says otherwise.

>>> effective_uses({"train-ai": "n"})["train-genai"]
'n'
>>> combine(["y", "n", "unknown"])
'n'

Where a person types uses (`kotowari claim new --deny 学習,まねた生成`), the Japanese names are
accepted beside the tokens; what is signed and sent is always the English token:

>>> parse_uses("学習、まねた生成")
['train-ai', 'generate']
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final, Literal

Use = Literal["train-ai", "train-genai", "ai-input", "search", "generate"]
Value = Literal["y", "n"]
Decision = Literal["y", "n", "unknown"]

USES: Final[tuple[Use, ...]] = ("train-ai", "train-genai", "ai-input", "search", "generate")
VALUES: Final[tuple[Value, ...]] = ("y", "n")

#: What a claim or notice is about. Here, beside the uses, so that the command line can offer both
#: as choices without importing the pydantic models (`registry.documents` re-exports them).
SubjectKind = Literal["work", "voice", "likeness"]
SUBJECT_KINDS: Final[tuple[SubjectKind, ...]] = ("work", "voice", "likeness")

#: A narrower use inherits the statement made about its broader use.
PARENT: Final[Mapping[Use, Use]] = {"train-genai": "train-ai"}

DESCRIPTIONS: Final[Mapping[Use, str]] = {
    "train-ai": "training or fine-tuning any AI model",
    "train-genai": "training generative AI models (a reservation of train-ai covers it)",
    "ai-input": "use as input at inference time (RAG, grounding)",
    "search": "search indexing",
    "generate": "producing output that imitates the subject (voice, likeness, a work's expression)",
}


JAPANESE_NAMES: Final[Mapping[Use, tuple[str, ...]]] = {
    "train-ai": ("AI の学習", "AI 学習", "学習"),
    "train-genai": ("生成 AI の学習", "生成 AI 学習", "生成 AI への学習"),
    "ai-input": ("AI への入力", "AI 入力", "入力"),
    "search": ("検索", "検索の索引", "検索インデックス"),
    "generate": ("まねた生成", "生成"),
}
"""The Japanese a person may type for each use; the first is the portal's name for it (api/copy,
in the words of api/glossary.py), the others the shorter ways people write it."""

SUBJECT_KIND_NAMES: Final[Mapping[SubjectKind, tuple[str, ...]]] = {
    "work": ("作品",),
    "voice": ("声",),
    "likeness": ("肖像",),
}
"""The Japanese names of the kinds, as the portal writes them."""


def _alias_key(text: str) -> str:
    """How a typed name is compared: NFKC, case-folded, without spaces or middle dots."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if not char.isspace() and char not in "・･")


_USE_ALIASES: Final[Mapping[str, Use]] = {
    _alias_key(name): use for use, names in JAPANESE_NAMES.items() for name in (use, *names)
}
_KIND_ALIASES: Final[Mapping[str, SubjectKind]] = {
    _alias_key(name): kind for kind, names in SUBJECT_KIND_NAMES.items() for name in (kind, *names)
}


class UnknownUse(ValueError):
    """A use outside the vocabulary; `name` is what was given (None when nothing was)."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def parse_uses(text: str) -> list[Use]:
    """Parse a list of uses separated by commas (or 、), as the CLI takes them; refuses unknown ones."""
    uses: list[Use] = []
    for part in unicodedata.normalize("NFKC", text).replace("、", ",").split(","):
        name = part.strip()
        if not name:
            continue
        use = as_use(name)
        if use not in uses:
            uses.append(use)
    if not uses:
        raise UnknownUse("no use given")
    return uses


def as_use(name: str) -> Use:
    """Return `name` (a token, or a Japanese name from `JAPANESE_NAMES`) as a `Use`, or raise
    `UnknownUse` listing the vocabulary."""
    use = _USE_ALIASES.get(_alias_key(name))
    if use is None:
        raise UnknownUse(f"unknown use {name!r}: expected one of {', '.join(USES)}", name)
    return use


def as_subject_kind(name: str) -> SubjectKind:
    """Return `name` (a kind, or its Japanese name) as a `SubjectKind`; ValueError otherwise."""
    kind = _KIND_ALIASES.get(_alias_key(name))
    if kind is None:
        raise ValueError(f"unknown kind {name!r}: expected one of {', '.join(SUBJECT_KINDS)}")
    return kind


def effective_uses(stated: Mapping[str, str]) -> dict[Use, Decision]:
    """What one statement says about every use, after narrower uses inherit from broader ones."""
    result: dict[Use, Decision] = {}
    for use in USES:
        value = stated.get(use)
        if value is None and use in PARENT:
            value = stated.get(PARENT[use])
        result[use] = "n" if value == "n" else "y" if value == "y" else "unknown"
    return result


def combine(values: Iterable[str]) -> Decision:
    """Combine several sources' values for one use: any `n` wins, then any `y`, else unknown."""
    seen_y = False
    for value in values:
        if value == "n":
            return "n"
        if value == "y":
            seen_y = True
    return "y" if seen_y else "unknown"
