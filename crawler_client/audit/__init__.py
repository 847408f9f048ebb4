"""An independent audit of a registry from its public endpoints alone: `kotowari log audit`.

The audit trusts nothing the registry says that its signed log does not imply:

1. **Mirror.** The checkpoint must be signed by the registry's note key (pinned in the state
   directory on first use) and extend the checkpoint audited before (a smaller one is a rollback,
   another root at the same size a fork). Only the entry bundles not mirrored yet are fetched (full
   ones never change; the last partial one is fetched again and must begin with what was audited).
   The RFC 9162 root of the mirrored entries must be the checkpoint's, every new hash tile must be
   what the entries imply, and the registry's consistency proof from the last audit must verify.
2. **Verify** every entry: strict canonical JSON, a known document type, the author's signature
   (did:key offline, did:web from the DID documents logged before it, registry-signed records by
   the registry's DID) — `registry.entry_check`, the same check the registry runs on itself.
3. **Replay** the state by the registry's own rules: `registry.index.ClaimIndex`.
4. **Compare** what the registry serves with the replay: each claim lookup (all claims, or a
   random sample beyond `--sample`), and signed check answers for every compared claim's
   identifiers, which must be signed, name the audited tree and root, and decide as
   `registry.checking.decide` does over the replay.

Outcomes (the `kotowari` exit statuses):

    AuditReport.consistent      0  nothing found; one line ("audited N entries, M claims, K answers:
                                   consistent")
    AuditReport.discrepancies   1  the registry serves what its log does not imply, or its log is not a
                                   log: a rollback, a fork, a checkpoint or answer not signed by its key,
                                   entries that do not hash to the signed root, tiles that disagree with
                                   the entries, a forged entry, a claim served otherwise or not at all
    AuditError                  2  the audit could not be done: unreachable registry, an answer the
                                   protocol does not allow (garbage or truncated tiles and bundles,
                                   malformed JSON), a damaged state directory

>>> with Auditor("http://127.0.0.1:8000", "audit-state") as auditor:  # doctest: +SKIP
...     report = auditor.run()
>>> report.summary()  # doctest: +SKIP
'audited 1200 entries, 950 claims, 1400 answers: consistent'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crawler_client.audit.report import DEFAULT_SAMPLE, AuditError, AuditReport, Discrepancy

if TYPE_CHECKING:
    from crawler_client.audit.auditor import Auditor, Progress
    from crawler_client.audit.replay import Replay, Throughput, offline_throughput
    from crawler_client.audit.state import AuditState, Pin, StateDir

__all__ = [
    "DEFAULT_SAMPLE",
    "AuditError",
    "AuditReport",
    "AuditState",
    "Auditor",
    "Discrepancy",
    "Pin",
    "Progress",
    "Replay",
    "StateDir",
    "Throughput",
    "audit",
    "offline_throughput",
]


def audit(registry: str, state_dir: str, **options: object) -> AuditReport:
    """Run one audit (`Auditor(registry, state_dir, **options).run()`) and close the connection."""
    from crawler_client.audit.auditor import Auditor

    with Auditor(registry, state_dir, **options) as auditor:  # type: ignore[arg-type]
        return auditor.run()


# The rest is imported on first use (PEP 562): building the `kotowari` parser imports this package
# for `DEFAULT_SAMPLE`, and must not pay for httpx, pydantic and numpy (the replay's index).
_HOMES = {
    "Auditor": "crawler_client.audit.auditor",
    "Progress": "crawler_client.audit.auditor",
    "Replay": "crawler_client.audit.replay",
    "Throughput": "crawler_client.audit.replay",
    "offline_throughput": "crawler_client.audit.replay",
    "AuditState": "crawler_client.audit.state",
    "Pin": "crawler_client.audit.state",
    "StateDir": "crawler_client.audit.state",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
