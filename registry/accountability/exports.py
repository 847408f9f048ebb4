"""The records' CSV exports (RFC 4180): the ranking, one operator a row, and one operator's notices,
one a row. Made from the JSON answers alone (`registry.accountability.record`), so the CLI, given the
registry's JSON, writes the registry's CSV byte for byte.

>>> ranking_csv({"operators": []}).splitlines()[0].split(",")[:3]
['rank', 'operator', 'name']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

__all__ = ["NOTICE_COLUMNS", "RANKING_COLUMNS", "notices_csv", "ranking_csv"]

RANKING_COLUMNS: Final = (
    "rank",
    "operator",
    "name",
    "registered",
    "authority",
    "notices_received",
    "overdue",
    "answered_on_time",
    "answered_late",
    "actioned",
    "rejected",
    "counter_noticed",
    "repeats",
    "information_requests",
    "information_requests_overdue",
    "information_requests_answered_late",
    "current_disclosures",
)

NOTICE_COLUMNS: Final = (
    "notice",
    "log_index",
    "notifier",
    "filed_at",
    "regimes",
    "models",
    "state",
    "acknowledge_by",
    "decide_by",
    "acknowledged_at",
    "decided_at",
    "timeliness",
    "overdue",
    "actions_taken",
    "upheld",
)
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell: lists joined by `;`, booleans `true`/`false`, nothing for null; text a spreadsheet
    would run as a formula (an operator's self-chosen name) starts with `'` (OWASP's advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def ranking_csv(answer: Mapping[str, Any]) -> str:
    """The ranked list as CSV (RFC 4180), one operator a row, in `RANKING_COLUMNS`."""
    return _csv(RANKING_COLUMNS, answer["operators"])


def notices_csv(record: Mapping[str, Any]) -> str:
    """One operator's notices as CSV, one notice a row, in `NOTICE_COLUMNS`."""
    return _csv(NOTICE_COLUMNS, record["notice_list"])
