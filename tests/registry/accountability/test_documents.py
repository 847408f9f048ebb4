"""The accountability documents' schemas: what a disclosure, a request and an answer must say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import keys
from registry.accountability.documents import (
    Disclosure,
    InformationAnswer,
    InformationRequest,
    new_disclosure,
    new_information_answer,
    new_information_request,
    validate_accountability_document,
)
from registry.accountability.vocabulary import (
    PRINCIPLE_ITEMS,
    SIGNAL_SOURCES,
    SIGNALS,
    UnknownWord,
    parse_words,
)
from registry.documents import InvalidDocument

T0 = datetime(2026, 5, 1, tzinfo=UTC)
KEY = keys.SigningKey.generate()


def _disclosure(**changes: Any) -> dict[str, Any]:
    document = new_disclosure(
        KEY.did,
        "model",
        "acme/p",
        training_data={"signals_honoured": ["robots.txt"]},
        contact={"url": "https://acme.example/ai"},
        principle_code={item: {"answer": "comply"} for item in PRINCIPLE_ITEMS},
        created=T0,
    )
    document.update(changes)
    return keys.sign_document(document, KEY, created=T0)


def _errors(model: type[Any], document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        validate_accountability_document(model, document)
    return caught.value.errors


def test_a_complete_disclosure_validates() -> None:
    assert validate_accountability_document(Disclosure, _disclosure()).author == KEY.did


def test_every_principle_code_item_is_answered_and_an_explanation_given_where_asked() -> None:
    code = {item: {"answer": "comply"} for item in PRINCIPLE_ITEMS[1:]}
    ((pointer, reason),) = _errors(Disclosure, _disclosure(principle_code=code))
    assert pointer == "" and "missing: 1-models" in reason
    code = {**code, "1-models": {"answer": "explain"}}
    assert _errors(Disclosure, _disclosure(principle_code=code))[0][0] == "/principle_code/1-models"
    code["1-models"] = {"answer": "maybe"}
    assert _errors(Disclosure, _disclosure(principle_code=code))[0][0] == "/principle_code/1-models/answer"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"contact": {"url": "http://acme.example/ai"}}, "/contact/url"),
        ({"contact": {"url": "https://acme.example/", "email": "aoi@example.jp"}}, "/contact/email"),
        ({"training_data": {"signals_honoured": ["robots.txt", "robots.txt"]}}, "/training_data"),
        ({"training_data": {"signals_honoured": ["noai"]}}, "/training_data/signals_honoured/0"),
        (
            {
                "training_data": {
                    "manifests": [{"id": "AB" * 32, "snapshot": {"tree_size": 1, "root_hash": "x"}}]
                }
            },
            "/training_data/manifests/0/id",
        ),
        ({"subject": {"kind": "dataset", "id": "x"}}, "/subject/kind"),
        ({"safeguards": [{"stage": "prompt", "schemes": []}]}, "/safeguards/0/schemes"),
    ],
)
def test_a_disclosure_refuses(change: dict[str, Any], pointer: str) -> None:
    assert _errors(Disclosure, _disclosure(**change))[0][0] == pointer


def test_a_request_has_a_deadline_after_it_and_is_sent_to_someone_else() -> None:
    def request(
        deadline: datetime, operator: str = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    ) -> Any:
        document = new_information_request(
            KEY.did, operator, topics=["safeguards"], questions=["?"], deadline=deadline, created=T0
        )
        return keys.sign_document(document, KEY, created=T0)

    assert validate_accountability_document(InformationRequest, request(T0 + timedelta(days=1)))
    assert "deadline must be later" in _errors(InformationRequest, request(T0))[0][1]
    assert "to itself" in _errors(InformationRequest, request(T0 + timedelta(days=1), KEY.did))[0][1]
    answer = keys.sign_document(
        new_information_answer(KEY.did, "ab" * 32, "yes", created=T0), KEY, created=T0
    )
    assert validate_accountability_document(InformationAnswer, answer).request == "ab" * 32


def test_signals_are_the_crawler_policys_sources() -> None:
    assert set(SIGNAL_SOURCES) == set(SIGNALS)
    assert parse_words("all", SIGNALS, "signal") == list(SIGNALS)
    with pytest.raises(UnknownWord, match="unknown signal 'noai'"):
        parse_words("robots.txt,noai", SIGNALS, "signal")


@pytest.mark.parametrize("name", ["documents", "vocabulary", "replay", "record", "exports"])
def test_the_modules_examples_run(name: str) -> None:
    import doctest
    import importlib

    module = importlib.import_module(f"registry.accountability.{name}")
    assert doctest.testmod(module).failed == 0
