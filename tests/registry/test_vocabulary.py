"""The vocabulary of uses: inheritance from broader uses and the combination rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.vocabulary import USES, UnknownUse, combine, effective_uses, parse_uses

values = st.sampled_from(["y", "n", "unknown"])


def test_train_ai_covers_train_genai():
    assert effective_uses({"train-ai": "n"})["train-genai"] == "n"
    assert effective_uses({"train-ai": "y"})["train-genai"] == "y"


def test_a_narrower_statement_overrides_the_broader_one():
    assert effective_uses({"train-ai": "y", "train-genai": "n"}) == {
        "train-ai": "y",
        "train-genai": "n",
        "ai-input": "unknown",
        "search": "unknown",
        "generate": "unknown",
    }


def test_a_narrower_statement_does_not_leak_upwards():
    assert effective_uses({"train-genai": "n"})["train-ai"] == "unknown"


@given(st.lists(values))
def test_any_n_wins_then_any_y(seen: list[str]):
    expected = "n" if "n" in seen else "y" if "y" in seen else "unknown"
    assert combine(seen) == expected


@given(st.lists(values), st.lists(values))
def test_combining_is_order_and_grouping_independent(first: list[str], second: list[str]):
    assert combine(first + second) == combine([combine(first), combine(second)]) == combine(second + first)


def test_parse_uses_accepts_the_vocabulary_and_refuses_the_rest():
    assert parse_uses("train-ai, generate") == ["train-ai", "generate"]
    assert parse_uses(",".join(USES)) == list(USES)
    with pytest.raises(UnknownUse, match="train-everything"):
        parse_uses("train-ai,train-everything")
    with pytest.raises(UnknownUse):
        parse_uses(" , ")
