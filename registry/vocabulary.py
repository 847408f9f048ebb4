"""The vocabulary of uses and how several statements about one use combine.

Follows the IETF aipref vocabulary: `train-genai` is a narrower category inside `train-ai`, so a
statement about `train-ai` applies to `train-genai` unless the statement says otherwise.

>>> effective_uses({"train-ai": "n"})["train-genai"]
'n'
>>> combine(["y", "n", "unknown"])
'n'
"""

from __future__ import annotations

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


class UnknownUse(ValueError):
    """A use outside the vocabulary."""


def parse_uses(text: str) -> list[Use]:
    """Parse a comma-separated list of uses, as the CLI takes them; refuses unknown ones."""
    uses: list[Use] = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        uses.append(as_use(name))
    if not uses:
        raise UnknownUse("no use given")
    return uses


def as_use(name: str) -> Use:
    """Return `name` as a `Use`, or raise `UnknownUse` listing the vocabulary."""
    for use in USES:
        if use == name:
            return use
    raise UnknownUse(f"unknown use {name!r}: expected one of {', '.join(USES)}")


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
