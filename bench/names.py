"""Name search over free text: `NameIndex.find()` on 1 KB prompts against 100k registered names,
beside a naive loop over every name measured in the same run (machines here are noisy, so the
ratio is the figure to read). Also the index build time and the cost of one add once it is built.

    python bench/names.py [--names 100000] [--prompts 200] [--seconds 3]

Names are synthetic but shaped like real claims: one person gives kanji, kana and romaji forms
built from the same generated syllables (deterministic seed). Half the prompts mention one or two
registered people, written as a user would (other case, katakana, a space inside the kanji).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.names import NameIndex, fold

SYLLABLES = [
    *zip(
        [
            *("ka", "ki", "ku", "ke", "ko", "sa", "shi", "su", "se", "so", "ta", "chi", "tsu", "te", "to"),
            *("na", "ni", "nu", "ne", "no", "ha", "hi", "fu", "he", "ho", "ma", "mi", "mu", "me", "mo"),
            *("ya", "yu", "yo", "ra", "ri", "ru", "re", "ro", "wa", "ga", "gi", "gu", "ge", "go"),
            *("za", "ji", "zu", "ze", "zo", "da", "de", "do", "ba", "bi", "bu", "be", "bo"),
        ],
        "かきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわがぎぐげござじずぜぞだでどばびぶべぼ",
        strict=True,
    ),
    ("n", "ん"),
    ("ryo", "りょ"),
    ("kyo", "きょ"),
    ("sho", "しょ"),
]
KANJI = (
    "山寺宏一田中佐藤鈴木高橋伊藤渡辺小林加藤吉田山本松井上木村林清水斎森池橋阿部石川前後"
    "藤原岡村坂本遠野花沢香菜美咲優子恵理奈真由彩香千尋明日翔太健一郎次大輔和也拓海悠人蒼"
    "陽菜結衣葵凛光春夏秋冬雪月星空海川谷口野村上中西東南北宮城島崎浜松竹梅桜菊蘭紅白青"
)
WORDS = [
    *("the", "voice", "of", "a", "calm", "narrator", "reading", "slowly", "with", "warm", "tone"),
    *("please", "generate", "an", "audio", "clip", "in", "style", "like", "character", "anime"),
    *("scene", "background", "music", "soft", "bright", "energetic", "deep", "young", "old", "male"),
    *("female", "speaker", "sample", "sentence", "about", "weather", "travel", "food", "story"),
    *("dragon", "castle", "morning", "声で", "読んで", "ください", "物語", "朝"),
]


def person(rng: random.Random) -> tuple[str, str, str]:
    """Kanji, kana and romaji forms of one synthetic person's name."""
    family = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))]
    given = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))]
    kanji = "".join(rng.choices(KANJI, k=rng.randint(2, 3))) + "".join(
        rng.choices(KANJI, k=rng.randint(1, 2))
    )
    kana = "".join(k for _, k in family) + " " + "".join(k for _, k in given)
    romaji = "".join(r for r, _ in given).capitalize() + " " + "".join(r for r, _ in family).capitalize()
    return kanji, kana, romaji


def as_written(rng: random.Random, name: str) -> str:
    """A registered name as a prompt might write it."""
    choice = rng.randrange(4)
    if choice == 0:
        return name.upper()
    if choice == 1:  # hiragana written in katakana
        return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in name)
    if choice == 2 and len(name) > 2:
        return name[:2] + " " + name[2:]
    return name


def prompt(rng: random.Random, mention: list[str]) -> str:
    """About 1 KB of filler with `mention` written into it, each between spaces."""
    written = [as_written(rng, name) for name in mention]
    budget = 1024 - sum(len(name.encode()) + 1 for name in written)
    words: list[str] = []
    while sum(len(word.encode()) + 1 for word in words) < budget - 12:
        words.append(rng.choice(WORDS))
    for name in written:
        words.insert(rng.randrange(len(words) + 1), name)
    return " ".join(words)


def rate(function: Callable[[], object], seconds: float) -> float:
    """Calls per second of `function`, run for about `seconds`."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        function()
        calls += 1
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rng = random.Random(20240601)

    people = [person(rng) for _ in range(args.names // 3 + 1)]
    names = [(name, ref) for ref, forms in enumerate(people) for name in forms][: args.names]
    mentions = [
        [rng.choice(names) for _ in range(rng.randint(1, 2))] if i % 2 else [] for i in range(args.prompts)
    ]
    prompts = [prompt(rng, [name for name, _ in mentioned]) for mentioned in mentions]
    mean_bytes = statistics.fmean(len(p.encode()) for p in prompts)
    print(f"{len(names):,} names ({len(people):,} people), {len(prompts)} prompts of {mean_bytes:,.0f} bytes")

    # ---------------------------------------------------------------- build
    index: NameIndex[int] = NameIndex()
    started = time.perf_counter()
    for name, ref in names:
        index.add(name, ref)
    added = time.perf_counter() - started
    index.find("")  # the first search builds the base automaton
    built = time.perf_counter() - started
    print(f"build: {built:.2f} s ({added:.2f} s of adds, {built - added:.2f} s automaton)")

    # ---------------------------------------------------------------- search
    hits = 0
    for text, mentioned in zip(prompts, mentions, strict=True):
        found = index.find(text)
        hits += len(found)
        assert {ref for _, ref in mentioned} <= {hit.ref for hit in found}, (text, mentioned)
    cycle = iter(range(1 << 62))
    qps = rate(lambda: index.find(prompts[next(cycle) % len(prompts)]), args.seconds)
    print(
        f"NameIndex.find: {qps:,.0f} prompts/s ({hits} hits in {len(prompts)} prompts,"
        f" {sum(map(len, mentions))} names written in; every one found)"
    )

    # The naive loop: every folded name against the folded prompt (no boundaries even).
    keys = [fold(name) for name, _ in names]
    subset = keys[:1000]
    sample = [fold(p) for p in prompts]
    subset_rate = rate(lambda: [key in sample[next(cycle) % len(sample)] for key in subset], args.seconds)
    scaled = subset_rate * len(subset) / len(keys)
    started = time.perf_counter()
    for folded in sample[:3]:
        [folded.find(key) for key in keys]
    full = 3 / (time.perf_counter() - started)
    print(
        f"naive loop: {scaled:,.1f} prompts/s (1,000-name subset at {subset_rate:,.0f}/s, scaled),"
        f" {full:,.1f} prompts/s (str.find over all {len(keys):,} names, 3 prompts)"
    )
    print(f"ratio: {qps / scaled:,.0f}x the scaled loop, {qps / full:,.0f}x the full str.find loop")

    # ---------------------------------------------------------------- one add after the base is built
    extra = [person(rng)[2] for _ in range(200)]
    adds, first_finds = [], []
    for ref, name in enumerate(extra, start=10_000_000):
        started = time.perf_counter()
        index.add(name, ref)
        adds.append(time.perf_counter() - started)
        started = time.perf_counter()
        found = index.find(f"please speak like {name} today")
        first_finds.append(time.perf_counter() - started)
        assert [hit.ref for hit in found if hit.name == name] == [ref]
    print(
        f"one add after the base: {statistics.median(adds) * 1e6:,.1f} µs median;"
        f" the find after it (recent automaton rebuilt): {statistics.median(first_finds) * 1e3:,.2f} ms"
        f" median, {max(first_finds) * 1e3:,.2f} ms max"
    )
    for ref, name in enumerate((person(rng)[2] for _ in range(1000)), start=20_000_000):
        index.add(name, ref)
    started = time.perf_counter()
    index.find("")
    merge = time.perf_counter() - started
    print(f"merge of the recent names into the base (once per ~1,000 new names): {merge:.2f} s")


if __name__ == "__main__":
    main()
