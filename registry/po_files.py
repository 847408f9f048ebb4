"""Gettext catalogs without GNU gettext: read and write .po files, compile .mo files, as msgfmt does.

Both sides keep catalogs: the command line's (`crawler_client.i18n_build`, domain `kotowari`) and the
registry's problem details (`registry.problem_catalog`, domain `kotowari-registry`). This module is the
one reading and writing of the formats they share; it is pure (stdlib only), so the client may import it.
Compiling follows CPython's Tools/i18n/msgfmt.py (no hash table, entries sorted, fuzzy and untranslated
entries left out), so the bytes of a .mo depend only on its .po.
"""

from __future__ import annotations

import array
import ast
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "Message", "compile_mo", "parse_po", "read_mo", "updated", "write_po"]


@dataclass
class Message:
    """A msgid found in the code: its plural (for `ngettext`), where it is, and its format."""

    msgid: str
    plural: str | None = None
    places: list[str] = field(default_factory=list)
    brace: bool = True  # `{name}` placeholders (ours) or `%(name)s` (argparse's)


@dataclass
class Entry:
    """One .po entry."""

    msgid: str
    msgstr: list[str]
    plural: str | None = None
    comments: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(self.msgstr) and bool(self.msgstr)


# ---------------------------------------------------------------- .po files


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string: {text!r}")
    return str(ast.literal_eval(text))  # a .po string is a C string literal; Python reads the same escapes


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (the header is the entry with msgid "")."""
    entries: list[Entry] = []
    comments: list[str] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # what a continuation line extends

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        try:
            if not line:
                finish()
                target = None
            elif line.startswith("#"):
                if current is not None and target is not None and target[0] == "msgstr":
                    finish()
                comments.append(raw)
            elif line.startswith("msgid_plural "):
                assert current is not None
                current.plural = _unquote(line[len("msgid_plural ") :])
                target = ("plural", 0)
            elif line.startswith("msgid "):
                finish()
                fuzzy = any(c.startswith("#,") and "fuzzy" in c for c in comments)
                current = Entry(_unquote(line[len("msgid ") :]), [], comments=comments, fuzzy=fuzzy)
                comments = []
                target = ("msgid", 0)
            elif line.startswith("msgstr["):
                assert current is not None
                index, _, rest = line[len("msgstr[") :].partition("]")
                current.msgstr.append(_unquote(rest))
                target = ("msgstr", int(index))
            elif line.startswith("msgstr "):
                assert current is not None
                current.msgstr = [_unquote(line[len("msgstr ") :])]
                target = ("msgstr", 0)
            elif line.startswith('"'):
                assert current is not None and target is not None
                more = _unquote(line)
                if target[0] == "msgid":
                    current.msgid += more
                elif target[0] == "plural":
                    current.plural = (current.plural or "") + more
                else:
                    current.msgstr[target[1]] += more
            else:
                raise ValueError(f"cannot read {line!r}")
        except (AssertionError, ValueError, SyntaxError) as exc:
            raise ValueError(f"line {number}: {exc}") from None
    finish()
    return entries


def _quoted(text: str) -> str:
    """A .po string, split after each newline as msgmerge does."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n\n")
    ).split("\n")
    parts = [part for part in escaped if part]
    if len(parts) <= 1:
        return f'"{parts[0] if parts else ""}"'
    return '""\n' + "\n".join(f'"{part}"' for part in parts)


def write_po(entries: Iterable[Entry]) -> str:
    out = []
    for entry in entries:
        out += entry.comments
        out.append(f"msgid {_quoted(entry.msgid)}")
        if entry.plural is not None:
            out.append(f"msgid_plural {_quoted(entry.plural)}")
            for index, form in enumerate(entry.msgstr or [""]):
                out.append(f"msgstr[{index}] {_quoted(form)}")
        else:
            out.append(f"msgstr {_quoted(entry.msgstr[0] if entry.msgstr else '')}")
        out.append("")
    return "\n".join(out)


def updated(entries: list[Entry], messages: list[Message]) -> tuple[list[Entry], list[str]]:
    """The .po entries for `messages` (translations kept, new ones empty), and the msgids dropped."""
    header = [entry for entry in entries if entry.msgid == ""]
    held = {entry.msgid: entry for entry in entries if entry.msgid}
    out = list(header)
    for message in messages:
        old = held.pop(message.msgid, None)
        flag = "#, python-brace-format" if message.brace and "{" in message.msgid else ""
        flag = flag or ("#, python-format" if not message.brace and "%" in message.msgid else "")
        comments = [f"#: {' '.join(message.places[:4])}"] + ([flag] if flag else [])
        if old is not None and old.fuzzy:
            comments.append("#, fuzzy")
        forms = old.msgstr if old is not None else [""]
        out.append(Entry(message.msgid, forms, message.plural, comments, old.fuzzy if old else False))
    return out, sorted(held)


# ---------------------------------------------------------------- .mo files


def compile_mo(entries: Iterable[Entry]) -> bytes:
    """The .mo of `entries`, as CPython's msgfmt.py writes it."""
    messages: dict[bytes, bytes] = {}
    for entry in entries:
        if entry.msgid and (entry.fuzzy or not entry.msgstr or not all(entry.msgstr)):
            continue
        key = entry.msgid.encode("utf-8")
        if entry.plural is not None:
            key += b"\0" + entry.plural.encode("utf-8")
        messages[key] = b"\0".join(form.encode("utf-8") for form in entry.msgstr)
    keys = sorted(messages)
    offsets, ids, strs = [], b"", b""
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array.array("i", koffsets + voffsets).tobytes() + ids + strs


def read_mo(data: bytes) -> dict[str, str]:
    """msgid → msgstr of a little-endian .mo (as `compile_mo` writes it); plural forms are left out."""
    magic, _revision, count, ids_at, strs_at = struct.unpack_from("<Iiiii", data, 0)
    if magic != 0x950412DE:
        raise ValueError("not a little-endian .mo file")
    out: dict[str, str] = {}
    for index in range(count):
        id_length, id_offset = struct.unpack_from("<ii", data, ids_at + 8 * index)
        str_length, str_offset = struct.unpack_from("<ii", data, strs_at + 8 * index)
        msgid = data[id_offset : id_offset + id_length].decode("utf-8")
        if msgid and "\0" not in msgid:
            out[msgid] = data[str_offset : str_offset + str_length].decode("utf-8")
    return out


def build_catalogs(
    pos: Iterable[Path], messages: list[Message], *, update: bool, check: bool, command: str
) -> int:
    """Keep each .po in `pos` in step with `messages` (with `update`: new msgids added, unused ones
    dropped) and its .mo compiled from it; with `check`, change nothing and return 1 if anything is
    stale or untranslated. `command` is what to run to fix it, for the message."""
    status = 0
    for po in pos:
        entries = parse_po(po.read_text(encoding="utf-8"))
        fresh, dropped = updated(entries, messages)
        if update:
            po.write_text(write_po(fresh), encoding="utf-8")
            entries = fresh
            for msgid in dropped:
                print(f"{po}: dropped {msgid!r}", file=sys.stderr)
        missing = [entry.msgid for entry in fresh if entry.msgid and not entry.translated]
        for msgid in missing:
            print(f"{po}: untranslated {msgid!r}", file=sys.stderr)
        mo = po.with_suffix(".mo")
        compiled = compile_mo(entries)
        if check:
            if not mo.exists() or mo.read_bytes() != compiled or dropped or missing:
                print(f"{mo}: stale ({command} --update)", file=sys.stderr)
                status = 1
        else:
            mo.write_bytes(compiled)
    return status


def merge_message(by_id: dict[str, Message], message: Message) -> None:
    """Add `message` to `by_id`, or its places (and plural form) to the one with its msgid."""
    held = by_id.get(message.msgid)
    if held is None:
        by_id[message.msgid] = message
    else:
        held.places += message.places
        held.plural = held.plural or message.plural
