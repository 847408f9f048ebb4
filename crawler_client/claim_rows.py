"""The rows of a `kotowari claim import` file: CSV or JSON lines, each row one claim.

Columns are `claim new`'s flags with `_` for `-` (`on_behalf_of` for `--on-behalf-of`); headers are
compared case-folded and width-folded, with `-` or a space taken as `_`, so `On-Behalf-Of` and
`ｕｒｌ` work. The file is UTF-8, with or without a byte order mark (`--encoding` reads another);
text is put in Unicode NFC, as the registry requires, so names typed on any system are accepted.

CSV: a header row, then one claim per row; blank rows are skipped. An item column (`url`, `name`, …)
may hold several values separated by `|`, and may be repeated; `territory` takes `|` or `,`.
JSON lines: one object per line, keyed by the same columns; a value is a string, or a list of
strings where several are allowed. Paths in `file` and `embedding` are relative to the import file.

Japanese headers are read too (種類 kind, 名前・氏名・読み name, 拒否 deny, 許可 allow, 題名 title,
本人 on_behalf_of, 権限 authority, 地域 territory, 有効開始 / 有効期限, 連絡先 licence_contact,
管理番号・備考 ref), and kinds as 作品, 声, 肖像.

`ref` is the importer's own reference for a row (a member number, say): it is written to the
receipts file beside the claim's id and never sent. An unknown column is refused up front (a typo
like `deny ` must not silently file a claim that reserves nothing).
"""

from __future__ import annotations

import argparse
import csv
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler_client.claim_build import CLAIM_VALUES
from crawler_client.cli_support import UsageError, os_reason
from crawler_client.i18n import N_, _

__all__ = ["COLUMNS", "Row", "RowError", "read_rows"]

ITEMS: tuple[str, ...] = ("url", "sha256", "iscc", "pdq", "isni", "wikidata", "name", "file", "embedding")
"""Item columns: several values each."""

COLUMNS: dict[str, str] = {
    "kind": N_("work, voice or likeness, or 作品, 声, 肖像 (required, or give --kind)"),
    "url": N_("a page, file, path prefix or site"),
    "name": N_("a person's name or reading (kanji, kana, romaji; one per value)"),
    "sha256": N_("an exact file's SHA-256"),
    "iscc": N_("an ISO 24138 ISCC code"),
    "pdq": N_("an image's PDQ hash"),
    "isni": N_("an ISNI"),
    "wikidata": N_("a Wikidata item, e.g. Q42"),
    "file": N_("a local file to fingerprint (SHA-256, ISCC, PDQ); not sent"),
    "embedding": N_("SPACE:FILE, FILE a JSON array of numbers"),
    "deny": N_("uses to reserve, comma-separated, tokens or Japanese names (or give --deny)"),
    "allow": N_("uses to allow, comma-separated"),
    "title": N_("a title for the subject"),
    "on_behalf_of": N_("the person or body the agency files for"),
    "authority": N_("the agency's statement of its authority"),
    "principal_did": N_("the principal's DID"),
    "mandate": N_("the id of the principal's signed mandate"),
    "licence_contact": N_("where to ask for a licence"),
    "licence_terms": N_("licence terms (URL)"),
    "licence_rsl": N_("an RSL 1.0 licence document offering the reserved uses (https URL)"),
    "valid_from": N_("RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z"),
    "valid_until": N_("RFC 3339 UTC"),
    "territory": N_("ISO 3166-1 alpha-2 codes, e.g. JP|US"),
    "ref": N_("your own reference for the row, kept in the receipts file only"),
}
"""Every column an import file may have, and what it holds (msgids: translated where shown)."""

_ALIASES = {
    "urls": "url",
    "names": "name",
    "files": "file",
    "territories": "territory",
    "license_contact": "licence_contact",
    "license_terms": "licence_terms",
    "license_rsl": "licence_rsl",
    # Japanese headers, as an agency's own spreadsheet may have them
    "種類": "kind",
    "種別": "kind",
    "名前": "name",
    "氏名": "name",
    "名義": "name",
    "読み": "name",
    "拒否": "deny",
    "許可": "allow",
    "題名": "title",
    "タイトル": "title",
    "本人": "on_behalf_of",
    "権限": "authority",
    "根拠": "authority",
    "地域": "territory",
    "有効開始": "valid_from",
    "有効期限": "valid_until",
    "連絡先": "licence_contact",
    "管理番号": "ref",
    "備考": "ref",
}
KINDS = {"作品": "work", "声": "voice", "肖像": "likeness"}
"""Japanese names of the kinds, accepted in the kind column (registry.vocabulary.SUBJECT_KIND_NAMES)."""
_MULTI = frozenset(ITEMS) | {"territory"}
_LISTS = _MULTI | {"deny", "allow"}  # a JSON line may give these as a list
assert set(COLUMNS) == set(ITEMS) | set(CLAIM_VALUES) | {"ref"}


class RowError(ValueError):
    """A row that cannot become a claim; `line` is where it starts in the file."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class Row:
    """One row: its line, its values by column (several where allowed) and its `ref`."""

    line: int
    values: dict[str, list[str]] = field(default_factory=dict)
    ref: str | None = None

    def namespace(self, defaults: dict[str, str], base: Path) -> argparse.Namespace:
        """The row as `claim new`'s parsed flags (what `build_claim` takes), `defaults` filling
        the columns the row leaves empty, relative paths resolved against `base`."""
        values = {**{name: [value] for name, value in defaults.items()}, **self.values}
        space = argparse.Namespace(text=[])
        for name in ITEMS:
            setattr(space, name, list(values.get(name, [])))
        space.file = [str(base / path) for path in space.file]
        space.embedding = [_resolved_embedding(spec, base) for spec in space.embedding]
        for name in CLAIM_VALUES:
            given = values.get(name)
            if name == "territory":
                space.territory = [code for value in given or [] for code in _split(value, ",|")] or None
            elif name in ("deny", "allow"):
                space.__dict__[name] = ",".join(given).replace("、", ",") if given else None
            else:
                space.__dict__[name] = given[0] if given else None
        if space.kind is not None:
            space.kind = KINDS.get(space.kind, space.kind.casefold())
        return space


def _resolved_embedding(spec: str, base: Path) -> str:
    space, sep, name = spec.rpartition(":")
    return f"{space}{sep}{base / name}" if sep else spec


def _split(value: str, separators: str) -> list[str]:
    parts = [value]
    for separator in separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    return [part.strip() for part in parts if part.strip()]


def column_name(header: str) -> str:
    """A header as the column it names (`On-Behalf-Of` → `on_behalf_of`)."""
    name = unicodedata.normalize("NFKC", header).strip().casefold().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(name, name)


def _unknown(name: str) -> str:
    return _("unknown column {name!r} (columns: {columns})").format(name=name, columns=", ".join(COLUMNS))


def _put(row: Row, name: str, value: str, *, split: bool = True) -> None:
    """Add one cell's text to `row` (already NFC and stripped); an empty cell gives nothing."""
    if not value:
        return
    if name == "ref":
        row.ref = value
    elif name in ITEMS:
        row.values.setdefault(name, []).extend(_split(value, "|") if split else [value])
    elif name in row.values:
        raise RowError(row.line, _("{name} is given twice; it takes one value").format(name=name))
    else:
        row.values[name] = [value]


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def read_rows(
    path: Path, *, encoding: str = "utf-8-sig", format: str | None = None
) -> Iterator[Row | RowError]:
    """Every row of the file in order, or the reason it cannot be one. A file that cannot be read at
    all (missing, not in the encoding, an unknown column) raises `UsageError` instead."""
    try:
        text = path.read_bytes().decode(encoding)
    except OSError as exc:
        raise UsageError(_("{name}: {reason}").format(name=path, reason=os_reason(exc))) from None
    except UnicodeDecodeError as exc:
        line = text_line(path.read_bytes(), exc.start)
        if encoding.startswith("utf"):
            message = _(
                "{path} line {line}: not {encoding} text (a Japanese Excel file is often cp932: "
                "--encoding cp932)"
            )
        else:
            message = _("{path} line {line}: not {encoding} text")
        raise UsageError(
            message.format(path=path, line=line, encoding=encoding.removesuffix("-sig"))
        ) from None
    except LookupError:
        raise UsageError(
            _("--encoding {encoding}: not an encoding Python knows").format(encoding=encoding)
        ) from None
    text = text.removeprefix("\ufeff")
    chosen = format or _format_of(path, text)
    return _csv_rows(text) if chosen == "csv" else _json_rows(text)


def text_line(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _csv_rows(text: str) -> Iterator[Row | RowError]:
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _header(record, line)
                continue
            if len(record) > len(header):
                message = _("{cells} cells, but the header has {columns} columns")
                yield RowError(line, message.format(cells=len(record), columns=len(header)))
                continue
            row = Row(line)
            try:
                for name, cell in zip(header, record, strict=False):
                    _put(row, name, _text(cell))
            except RowError as exc:
                yield exc
                continue
            yield row
    except csv.Error as exc:
        raise UsageError(
            _("line {line}: not CSV ({detail})").format(line=reader.line_num, detail=exc)
        ) from None
    if header is None:
        raise UsageError(_("the file is empty: a CSV import needs a header row naming its columns"))


def _header(record: list[str], line: int) -> list[str]:
    names = [column_name(cell) for cell in record]
    for name in names:
        if name and name not in COLUMNS:
            raise UsageError(_("line {line}: {reason}").format(line=line, reason=_unknown(name)))
    single = [name for name in names if name and name not in _MULTI]
    repeated = sorted({name for name in single if single.count(name) > 1})
    if repeated:
        message = _("line {line}: column {column} appears twice; it takes one value")
        raise UsageError(message.format(line=line, column=repeated[0]))
    return names


def _json_rows(text: str) -> Iterator[Row | RowError]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw, object_pairs_hook=_no_duplicates)
        except ValueError as exc:
            yield RowError(number, _("not a JSON object: {detail}").format(detail=exc))
            continue
        if not isinstance(obj, dict):
            yield RowError(number, _("not a JSON object"))
            continue
        try:
            yield _json_row(number, obj)
        except RowError as exc:
            yield exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(_("the JSON key {name!r} appears twice").format(name=name))
    return dict(pairs)


def _json_row(number: int, obj: dict[str, Any]) -> Row:
    row = Row(number)
    for key, value in obj.items():
        name = column_name(key)
        if name not in COLUMNS:
            raise RowError(number, _unknown(name))
        listed = isinstance(value, list) and name in _LISTS
        values = value if listed else [value]
        for one in values:
            if one is not None and not isinstance(one, str):
                if name in _LISTS:
                    message = _("{name} must be a string or a list of strings, not {value}")
                else:
                    message = _("{name} must be a string, not {value}")
                raise RowError(number, message.format(name=name, value=json.dumps(one, ensure_ascii=False)))
            if one is not None and not _encodable(one):
                message = _("{name} holds a lone surrogate (\\ud800–\\udfff): not text")
                raise RowError(number, message.format(name=name))
        texts = [_text(one) for one in values if one is not None]
        if name in ("deny", "allow") and listed:
            texts = [",".join(texts)]
        for text in texts:
            _put(row, name, text, split=not listed)
    return row


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
