"""The crawl manifest: signed evidence of which opt-out signals a crawl consulted, and what they said.

A dataset filtered against a snapshot has its `ComplianceManifest`; a crawl run through
`GuardedTransport` has its audit log (one JSON line per decision, every signal with its source,
location and verdict). This turns that log into a document an operator can hand over: the crawler's
name and use, the time span, how many URLs each stage allowed and refused, every signal source
consulted (robots.txt, TDMRep, aipref Content-Usage, Content-Signal, X-Robots-Tag, RSL, the
registry, …) with its verdict counts, each refused URL with the signals that refused it, and the
SHA-256 of the log itself — signed by the operator (Data Integrity, eddsa-jcs-2022).
`verify_crawl_manifest` checks the signature and, given the log, that it is the log the manifest
was made from; its counts are recomputed from the log, so the two cannot disagree unseen.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import keys
from crawler_client.errors import KotowariError

__all__ = [
    "CRAWL_MANIFEST_TYPE",
    "CrawlManifestInvalid",
    "crawl_manifest",
    "summarise",
    "verify_crawl_manifest",
]

CRAWL_MANIFEST_TYPE: Final = "CrawlManifest"
CRAWL_MANIFEST_VERSION: Final = 1
MAX_LISTED: Final = 10_000
"""Refused URLs listed in the manifest itself; beyond that only counted (the log holds them all)."""


class CrawlManifestInvalid(KotowariError):
    """An audit log that cannot be summarised, or a crawl manifest that does not verify; says why."""


def summarise(log: Path) -> dict[str, Any]:
    """What the audit log at `log` says, as the manifest's unsigned body (its `log.sha256` included).

    Raises `CrawlManifestInvalid` naming the line for a line that is not an audit record.
    """
    try:
        raw = log.read_bytes()
    except OSError as exc:
        raise CrawlManifestInvalid(f"{log}: {exc.strerror or exc}") from None
    stages: dict[str, Counter[str]] = {}
    sources: dict[str, Counter[str]] = {}
    crawlers: set[str] = set()
    purposes: set[str] = set()
    times: list[str] = []
    refused: list[dict[str, Any]] = []
    refused_count = 0
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        record = _record(line, number, log)
        event = str(record["event"])
        stages.setdefault(event, Counter())["allowed" if record["allowed"] else "refused"] += 1
        crawlers.add(str(record.get("user_agent", "")))
        purposes.add(str(record.get("purpose", "")))
        times.append(str(record.get("time", "")))
        for signal in record.get("signals") or []:
            if isinstance(signal, dict):
                sources.setdefault(str(signal.get("source")), Counter())[str(signal.get("verdict", "?"))] += 1
        if not record["allowed"]:
            refused_count += 1
            if len(refused) < MAX_LISTED:
                refused.append(_refusal(record, number))
    if not times:
        raise CrawlManifestInvalid(f"{log}: no audit records (GuardedTransport(audit=…) writes them)")
    return {
        "crawler": sorted(crawlers),
        "purpose": sorted(purposes),
        "from": min(times),
        "until": max(times),
        "log": {"name": log.name, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)},
        "decisions": {stage: dict(sorted(counts.items())) for stage, counts in sorted(stages.items())},
        "signals": {source: dict(sorted(counts.items())) for source, counts in sorted(sources.items())},
        "refused": {"count": refused_count, "listed": refused},
    }


def _record(line: str, number: int, log: Path) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise CrawlManifestInvalid(f"{log} line {number}: not JSON ({exc})") from None
    if not isinstance(record, dict) or "event" not in record or not isinstance(record.get("allowed"), bool):
        raise CrawlManifestInvalid(f"{log} line {number}: not an audit record (no event and allowed)")
    return record


def _refusal(record: dict[str, Any], number: int) -> dict[str, Any]:
    """A refused URL with the signals that refused it (verdict `n`, or a fetch they forbid)."""
    deciding = [
        {"source": s.get("source"), "location": s.get("location"), "reason": s.get("reason")}
        for s in record.get("signals") or []
        if isinstance(s, dict) and (s.get("verdict") == "n" or s.get("fetch") is False)
    ]
    return {"line": number, "url": record.get("url"), "stage": record.get("event"), "by": deciding}


def crawl_manifest(log: Path, key: keys.SigningKey, *, now: datetime | None = None) -> dict[str, Any]:
    """The signed crawl manifest of the audit log at `log`, by the operator holding `key`."""
    document = {"type": CRAWL_MANIFEST_TYPE, "version": CRAWL_MANIFEST_VERSION, "operator": key.did}
    document |= summarise(log)
    return keys.sign_document(document, key, created=now)


def verify_crawl_manifest(document: dict[str, Any], log: Path | None = None) -> list[str]:
    """Check the operator's signature, and with `log` that the manifest is that log's; lines to print."""
    if document.get("type") != CRAWL_MANIFEST_TYPE:
        raise CrawlManifestInvalid("not a CrawlManifest")
    if document.get("version") != CRAWL_MANIFEST_VERSION:
        raise CrawlManifestInvalid(f"unknown crawl manifest version {document.get('version')!r}")
    try:
        verified = keys.verify_document(document)
    except keys.KeysError as exc:
        raise CrawlManifestInvalid(f"operator signature: {exc}") from None
    if verified.key.did != document.get("operator"):
        raise CrawlManifestInvalid(
            f"signed by {verified.key.did}, not by the operator {document.get('operator')}"
        )
    lines = [
        f"operator {document['operator']} signed at {verified.created}",
        f"crawler {', '.join(document.get('crawler', []))} for {', '.join(document.get('purpose', []))}, "
        f"{document.get('from')} to {document.get('until')}",
        "signals consulted: " + ", ".join(sorted(document.get("signals", {}))),
        f"{document.get('refused', {}).get('count')} URLs refused",
    ]
    if log is not None:
        recomputed = summarise(log)
        if recomputed["log"]["sha256"] != document.get("log", {}).get("sha256"):
            raise CrawlManifestInvalid(f"{log} is not the audit log this manifest signs (SHA-256 differs)")
        unsigned = {k: v for k, v in document.items() if k not in ("type", "version", "operator", "proof")}
        unsigned["log"] = {**unsigned["log"], "name": recomputed["log"]["name"]}  # the file may be renamed
        if unsigned != recomputed:
            raise CrawlManifestInvalid(f"the manifest's counts are not those of {log}")
        lines.append(f"audit log {log}: SHA-256 {recomputed['log']['sha256']} as signed, counts recomputed")
    return lines
