"""`admit_all`: a bulk checked in worker threads gives, document by document and in order, exactly
the outcome `admit` gives alone: every refusal kept in its place, did:web authors resolved after."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import keys
from registry.documents import Claim
from registry.errors import RegistryError
from registry.intake import THREADED_FROM, Accepted, ClockWindow, admit, admit_all
from tests.conftest import Clock
from tests.factories import signed_claim


def _outcome(value: Accepted[Any] | RegistryError) -> tuple[str, str]:
    if isinstance(value, RegistryError):
        return type(value).__name__, str(value)
    return "Accepted", value.id


def _mixed_bulk(alice: keys.SigningKey, mallory: keys.SigningKey, now: datetime) -> list[bytes]:
    """Good claims between every kind of refusal, spread so that each thread's share has some."""
    raws: list[bytes] = []
    for n in range(3 * THREADED_FROM):
        claim = signed_claim(alice, now, urls=(f"https://site{n}.example/",))
        kind = n % 8
        if kind == 1:
            raws.append(b'{"type": "Claim", "type": "Claim"}')  # duplicate key
        elif kind == 2:
            tampered = copy.deepcopy(claim)
            tampered["uses"] = {"train-ai": "y"}
            raws.append(keys.canonicalize(tampered))  # the proof no longer verifies
        elif kind == 3:
            raws.append(keys.canonicalize({**claim, "claimant": mallory.did}))  # not the author's key
        elif kind == 4:
            raws.append(keys.canonicalize(signed_claim(alice, now - timedelta(days=3))))  # too old
        elif kind == 5:
            web = {**claim, "claimant": "did:web:agency.example"}
            raws.append(keys.canonicalize(web))  # did:web, and this registry resolves none
        elif kind == 6:
            raws.append(b"[1, 2]")  # not a document
        else:
            raws.append(keys.canonicalize(claim))
    return raws


async def test_a_threaded_bulk_gives_each_document_the_outcome_it_gets_alone(
    alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    raws = _mixed_bulk(alice, mallory, clock.now)
    window = ClockWindow()
    alone = []
    for raw in raws:
        try:
            alone.append(_outcome(await admit(raw, Claim, now=clock.now, window=window)))
        except RegistryError as exc:
            alone.append(_outcome(exc))
    threaded = await admit_all(raws, Claim, now=clock.now, window=window, threads=2)
    inline = await admit_all(raws, Claim, now=clock.now, window=window, threads=1)
    assert [_outcome(outcome) for outcome in threaded] == alone == [_outcome(o) for o in inline]
    kinds = {kind for kind, _ in alone}
    assert {"Accepted", "MalformedJSON", "InvalidProofError", "WrongSigner", "OutsideClockWindow"} <= kinds
    assert any("did:web" in detail for _, detail in alone)


async def test_a_small_bulk_is_checked_on_the_callers_thread_with_the_same_outcomes(
    alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    raws = _mixed_bulk(alice, mallory, clock.now)[: THREADED_FROM - 1]
    window = ClockWindow()
    small = await admit_all(raws, Claim, now=clock.now, window=window)
    big = await admit_all(raws * 2, Claim, now=clock.now, window=window)
    assert [_outcome(o) for o in small] * 2 == [_outcome(o) for o in big]
    accepted = [outcome for outcome in small if not isinstance(outcome, RegistryError)]
    assert accepted and all(outcome.canonical == keys.canonicalize(outcome.document) for outcome in accepted)
