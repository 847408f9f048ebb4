"""The generation guard on prompts, offline, against a snapshot with a million registered names:
per-prompt latency of `Guard.check(prompt=…)` (names found, decided, the record signed) and of
its name matcher alone, as p50 and p99 over every prompt, one core.

    python bench/guard.py [--names 1000000] [--prompts 2000]

The snapshot is synthetic but shaped like real claims and signed like the registry's (its checkpoint
note too), written to a file and opened as a client opens one (memory-mapped, verified). People are
Japanese (kanji, kana and romaji forms, some romaji with macrons), Chinese, Korean and Western
(accented Latin), a claim per person over all their forms; given names draw on thousands of
characters, as real ones do, so that a name is shared by a few claims, not by hundreds. Prompts
are 20-80 words of English and Japanese filler; a third mention one or two registered people the
way users write them: other case, katakana for hiragana, full-width letters, a space inside kanji,
a macron dropped or written "ou", the two names swapped. Every mention must be found, or the bench
fails. Times are wall clock and the thread's CPU time (this machine is shared), before and after
`gc.freeze()`, which a service would call once its guard is built.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datetime import UTC, datetime

import keys
from bench.names import KANJI, SYLLABLES, WORDS
from crawler_client.guard import Guard
from crawler_client.snapshot import Snapshot
from keys.note import Checkpoint, sign_note
from registry.authority.levels import SELF_ASSERTED
from registry.checking import ClaimView
from registry.identity import note_signer
from registry.snapshot import SnapshotState, assemble, encode_full
from registry.snapshot_parts import ClaimParts

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ORIGIN = "bench.kotowari/guard"
LONG = {"o": "ō", "u": "ū"}
WESTERN_GIVEN = (
    *("Anna", "José", "Zoë", "François", "Chloé", "Søren", "Björn", "Renée", "Łukasz", "Mário", "Inés"),
    *("Oliver", "Amelia", "Noah", "Isla", "Lucas", "Mia", "Matteo", "Léa", "Hugo", "Emma", "Liam"),
)
WESTERN_FAMILY = (
    *("García", "Müller", "Dvořák", "Nowak", "Rossi", "Dubois", "Jensen", "Smith", "O'Brien", "Kovač"),
    *("Fernández", "Schäfer", "Novák", "Silva", "Martin", "Brown", "Łopez", "Núñez", "Virtanen"),
)
HANZI_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
HANGUL_FAMILY = "김이박최정강조윤장임한오서신권황안송류홍"
_POOLS = random.Random(4)  # given-name characters: as many as real names draw from, not a handful
HANZI_GIVEN = "".join(chr(code) for code in _POOLS.sample(range(0x4E00, 0x9FA6), 2500))
HANGUL_GIVEN = "".join(chr(code) for code in _POOLS.sample(range(0xAC00, 0xD7A4), 400))


def japanese(rng: random.Random) -> list[str]:
    family = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))]
    given = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))]
    kanji = "".join(rng.choices(KANJI, k=rng.randint(2, 3))) + "".join(
        rng.choices(KANJI, k=rng.randint(1, 2))
    )
    kana = "".join(k for _, k in family) + " " + "".join(k for _, k in given)
    if rng.random() < 0.3:
        kana = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in kana)
    romaji = "".join(r for r, _ in given).capitalize() + " " + "".join(r for r, _ in family).capitalize()
    if rng.random() < 0.3:  # a long vowel, written with a macron
        at = rng.randrange(len(romaji))
        if romaji[at] in LONG:
            romaji = romaji[:at] + LONG[romaji[at]] + romaji[at + 1 :]
    return [kanji, kana, romaji]


def person(rng: random.Random) -> list[str]:
    roll = rng.random()
    if roll < 0.55:
        return japanese(rng)
    if roll < 0.7:
        return [rng.choice(HANZI_FAMILY) + "".join(rng.choices(HANZI_GIVEN, k=rng.randint(1, 2)))]
    if roll < 0.8:
        return [rng.choice(HANGUL_FAMILY) + "".join(rng.choices(HANGUL_GIVEN, k=2))]
    given, family = rng.choice(WESTERN_GIVEN), rng.choice(WESTERN_FAMILY)
    suffix = "".join(r for r, _ in rng.choices(SYLLABLES, k=2))  # many more people than surnames
    return [f"{given} {family}-{suffix.capitalize()}"]


def as_written(rng: random.Random, name: str) -> str:
    """A registered name as a prompt might write it (each way still one the guard must find)."""
    roll = rng.randrange(7)
    if roll == 0:
        return name.upper()
    if roll == 1:
        return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in name)
    if roll == 2 and name.isascii():
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    if roll == 3 and len(name) > 2 and not re.search("[A-Za-z\u00c0-\u024f]", name):  # a space in kanji
        return name[:2] + " " + name[2:]
    if roll == 4 and ("ō" in name or "ū" in name):
        return name.replace("ō", "ou").replace("ū", "u")
    if roll == 5 and name.count(" ") == 1 and all(c.isascii() or c in "ōū" for c in name):
        first, last = name.split(" ")
        return f"{last} {first}"
    return name


def prompt(rng: random.Random, mention: list[str]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 80) - len(mention))]
    for name in mention:
        words.insert(rng.randrange(len(words) + 1), as_written(rng, name))
    return " ".join(words)


def make_snapshot(path: Path, count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    """Write a signed snapshot of claims over about `count` names; returns (claim id, names)."""
    people: list[tuple[str, list[str]]] = []
    total = 0
    while total < count:
        forms = person(rng)[: count - total]
        claim_id = hashlib.sha256(f"claim {len(people)}".encode()).hexdigest()
        people.append((claim_id, forms))
        total += len(forms)
    registry = keys.SigningKey.generate()
    rows = (
        (
            ClaimView(claim_id, registry.did, "voice", {"generate": "n"}, None, None, None, SELF_ASSERTED),
            ClaimParts((), (), (), (), (), tuple(forms), ()),
            False,
        )
        for claim_id, forms in people
    )
    data = assemble(rows)
    root = hashlib.sha256(b"bench").digest()
    note = sign_note(Checkpoint(ORIGIN, len(people), root).to_text(), [note_signer(registry, ORIGIN)])
    state = SnapshotState.sign(
        data,
        key=registry,
        origin=ORIGIN,
        tree_size=len(people),
        root_hash=root,
        checkpoint=note,
        spaces={},
        now=NOW,
    )
    path.write_bytes(encode_full(state, data))
    return people


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1e3:.3f} ms  p99 {p99 * 1e3:.3f} ms  mean {statistics.fmean(ordered) * 1e3:.3f} ms"


def timed(function: Callable[[], object], wall: list[float], cpu: list[float]) -> Any:
    """Call `function`, adding its wall-clock and its thread's CPU time (which leaves out the time
    other processes had the core: this machine is shared) to the lists."""
    started, started_cpu = time.perf_counter(), time.thread_time()
    result = function()
    wall.append(time.perf_counter() - started)
    cpu.append(time.thread_time() - started_cpu)
    return result


def collected(pauses: list[tuple[int, float]], phase: str, info: dict[str, int]) -> None:
    """A `gc.callbacks` hook: the generation and duration of every collection."""
    if phase == "start":
        pauses.append((info["generation"], -time.perf_counter()))
    elif pauses:
        generation, started = pauses[-1]
        pauses[-1] = (generation, time.perf_counter() + started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--prompts", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "names.snapshot"
        started = time.perf_counter()
        people = make_snapshot(path, args.names, rng)
        made = time.perf_counter() - started
        started = time.perf_counter()
        snapshot = Snapshot.open(path)
        opened = time.perf_counter() - started
        started = time.perf_counter()
        guard = Guard(snapshot, key=keys.SigningKey.generate())
        built = time.perf_counter() - started
        matcher = guard.names
        assert matcher is not None
        print(
            f"{len(snapshot.data.names):,} names of {len(people):,} claims,"
            f" {path.stat().st_size / 1e6:.0f} MB;"
            f" snapshot made in {made:.1f} s, opened and verified in {opened:.1f} s,"
            f" guard built in {built:.1f} s ({matcher.keys:,} keys, variants included)"
        )

        mentions = [
            [rng.choice(people) for _ in range(rng.randint(1, 2))] if n % 3 == 0 else []
            for n in range(args.prompts)
        ]
        chosen = [[(claim_id, rng.choice(forms)) for claim_id, forms in mentioned] for mentioned in mentions]
        prompts = [prompt(rng, [name for _, name in names]) for names in chosen]
        words = [len(text.split()) for text in prompts]
        print(
            f"{len(prompts):,} prompts of {min(words)}-{max(words)} words,"
            f" {sum(map(bool, chosen)):,} naming someone"
        )

        for text in prompts[:50]:  # warm the per-word caches as a running service has them
            guard.check(prompt=text, at=NOW)
        pauses: list[tuple[int, float]] = []  # (generation, seconds) of each garbage collection
        gc.callbacks.append(lambda phase, info: collected(pauses, phase, info))
        missed: list[str] = []
        for frozen in (False, True):
            if frozen:  # what a service does once its guard is built: the collector skips what it holds
                gc.freeze()
            pauses.clear()
            full: tuple[list[float], list[float]] = ([], [])
            names_only: tuple[list[float], list[float]] = ([], [])
            for text, names in zip(prompts, chosen, strict=True):
                result = timed(lambda: guard.check(prompt=text, at=NOW), *full)  # noqa: B023
                timed(lambda: matcher.find(text), *names_only)  # noqa: B023
                if not frozen:
                    missed += [name for claim_id, name in names if claim_id not in result.claims]
            print(f"{'after gc.freeze()' if frozen else 'as built'}:")
            print(f"  Guard.check(prompt), record signed:  wall {percentiles(full[0])}")
            print(f"                                       cpu  {percentiles(full[1])}")
            print(f"  NameMatcher.find alone:              wall {percentiles(names_only[0])}")
            print(f"                                       cpu  {percentiles(names_only[1])}")
            longest = max((seconds for _, seconds in pauses), default=0.0)
            print(
                f"  garbage collections meanwhile: {len(pauses)}"
                f" ({sum(g == 2 for g, _ in pauses)} full), longest {longest * 1e3:.1f} ms"
            )
        mentioned = sum(len({c for c, _ in names}) for names in chosen)
        print(f"people mentioned: {mentioned:,}, missed: {len(missed)} {missed[:5]}")
        guard.close()
        snapshot.close()
        if missed:
            raise SystemExit(f"{len(missed)} mentioned people not found")


if __name__ == "__main__":
    main()
