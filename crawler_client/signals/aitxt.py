"""ai.txt (Spawning): robots.txt syntax at `/ai.txt`, read as statements about AI uses.

The file uses the groups and rules of robots.txt (`User-Agent`, `Allow`, `Disallow`, with
patterns such as `*.jpg`), so it is parsed by `crawler_client.signals.robots` with the same
group selection and longest-match rules. What differs is the meaning: a rule here does not govern
fetching, it states whether the content may be used for AI. So:

- a matching `Disallow` → `train-ai`, `train-genai`, `ai-input` and `generate` are `n`;
- a matching `Allow` → those uses are `y`;
- no matching rule, no file (any non-2xx), or no answer → unknown. ai.txt is optional and not
  an RFC 9309 file, so its absence or a server error neither grants nor forbids anything; the
  reason is recorded. `search` is never affected.

>>> from_fetch(200, b"User-Agent: *\\nDisallow: *.jpg", "https://e.example/a.jpg", "Bot").uses["ai-input"]
'n'
"""

from __future__ import annotations

from typing import Final

from crawler_client.signals import Decision, Use, Verdict, unknown
from crawler_client.signals.robots import RobotsTxt

__all__ = ["AI_USES", "from_fetch", "from_robots"]

AI_USES: Final[tuple[Use, ...]] = ("train-ai", "train-genai", "ai-input", "generate")
_SOURCE = "ai.txt"


def from_robots(parsed: RobotsTxt, url: str, user_agent: str, *, location: str) -> Verdict:
    match = parsed.match(url, user_agent)
    if match.rule is None:
        return Verdict(_SOURCE, location, "pre-fetch", unknown(), "no ai.txt rule matches")
    value: Decision = "y" if match.allowed else "n"
    uses = unknown()
    for use in AI_USES:
        uses[use] = value
    return Verdict(_SOURCE, location, "pre-fetch", uses, match.explain())


def from_fetch(
    status: int | None, body: bytes, url: str, user_agent: str, *, location: str = "/ai.txt", error: str = ""
) -> Verdict:
    if status is None:
        return Verdict(_SOURCE, location, "pre-fetch", unknown(), f"ai.txt unreachable ({error}): unknown")
    if not 200 <= status < 300:
        return Verdict(_SOURCE, location, "pre-fetch", unknown(), f"no ai.txt (HTTP {status})")
    return from_robots(RobotsTxt.parse(body), url, user_agent, location=location)
