"""The command line's catalogs, built from the code: extract msgids, keep the .po in step, compile the .mo.

    python -m crawler_client.i18n_build            # compile every .po to its .mo (what is committed)
    python -m crawler_client.i18n_build --update   # also add new msgids to the .po, drop unused ones
    python -m crawler_client.i18n_build --check    # exit 1 if a .mo is stale or a msgid untranslated

The .po is the one source of truth for the Japanese; the .mo is what Python's `gettext` reads, and is
committed so an installed wheel needs no build step. Compiling follows CPython's
Tools/i18n/msgfmt.py (no hash table, entries sorted, fuzzy and untranslated entries left out), so the
bytes depend only on the .po. Extraction is an AST walk, as xgettext does it: the string literals
given to `_()`, `N_()` and `ngettext()` in every crawler_client module that imports them from
`crawler_client.i18n`, then argparse's own messages (it translates them through gettext's current
domain, which the command line makes ours: `crawler_client.i18n.install_argparse`).
"""

from __future__ import annotations

import argparse
import array
import ast
import inspect
import struct
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "Message", "compile_mo", "extract", "parse_po", "write_po"]

PACKAGE = Path(__file__).resolve().parent
LOCALES = PACKAGE / "locale"
I18N_NAMES = frozenset({"_", "N_", "ngettext"})


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


# ---------------------------------------------------------------- extraction


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _calls(tree: ast.AST, names: frozenset[str]) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            yield node


def _imports_i18n(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and node.module == "crawler_client.i18n" for node in ast.walk(tree)
    )


def extract_file(path: Path, label: str) -> tuple[list[Message], list[str]]:
    """(the msgids of one module, where it calls `_()` with something other than a literal)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if not _imports_i18n(tree) and path.name != "i18n.py":
        return [], []
    found: list[Message] = []
    dynamic: list[str] = []
    for call in sorted(_calls(tree, I18N_NAMES), key=lambda c: (c.lineno, c.col_offset)):
        place = f"{label}:{call.lineno}"
        texts = [_literal(arg) for arg in call.args[: 2 if call.func.id == "ngettext" else 1]]  # type: ignore[attr-defined]
        if not texts or any(text is None for text in texts):
            dynamic.append(place)
            continue
        found.append(Message(texts[0], texts[1] if len(texts) > 1 else None, [place]))  # type: ignore[arg-type]
    return found, dynamic


def _argparse_messages() -> list[Message]:
    tree = ast.parse(inspect.getsource(argparse))
    found = []
    for call in sorted(_calls(tree, frozenset({"_", "ngettext"})), key=lambda c: c.lineno):
        texts = [_literal(arg) for arg in call.args[: 2 if call.func.id == "ngettext" else 1]]  # type: ignore[attr-defined]
        if texts and all(text is not None for text in texts):
            plural = texts[1] if len(texts) > 1 else None
            found.append(Message(texts[0], plural, [f"argparse:{call.lineno}"], brace=False))  # type: ignore[arg-type]
    return found


def extract(package: Path = PACKAGE) -> tuple[list[Message], list[str]]:
    """Every msgid of the command line, in order of first use (the package's modules, then argparse),
    and the places that translate something other than a literal."""
    by_id: dict[str, Message] = {}
    dynamic: list[str] = []
    files = sorted(path for path in package.rglob("*.py") if "__pycache__" not in path.parts)
    for path in files:
        found, calls = extract_file(path, path.relative_to(package.parent).as_posix())
        dynamic += calls
        for message in found:
            _merge(by_id, message)
    for message in _argparse_messages():
        _merge(by_id, message)
    return list(by_id.values()), dynamic


def _merge(by_id: dict[str, Message], message: Message) -> None:
    held = by_id.get(message.msgid)
    if held is None:
        by_id[message.msgid] = message
    else:
        held.places += message.places
        held.plural = held.plural or message.plural


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


def catalogs(locales: Path = LOCALES) -> list[Path]:
    return sorted(locales.glob("*/LC_MESSAGES/kotowari.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="add new msgids, drop unused ones")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    options = parser.parse_args(argv)
    messages, _dynamic = extract()
    status = 0
    for po in catalogs():
        entries = parse_po(po.read_text(encoding="utf-8"))
        fresh, dropped = updated(entries, messages)
        if options.update:
            po.write_text(write_po(fresh), encoding="utf-8")
            entries = fresh
            for msgid in dropped:
                print(f"{po}: dropped {msgid!r}", file=sys.stderr)
        missing = [entry.msgid for entry in fresh if entry.msgid and not entry.translated]
        for msgid in missing:
            print(f"{po}: untranslated {msgid!r}", file=sys.stderr)
        mo = po.with_suffix(".mo")
        compiled = compile_mo(entries)
        if options.check:
            if not mo.exists() or mo.read_bytes() != compiled or dropped or missing:
                print(f"{mo}: stale (python -m crawler_client.i18n_build --update)", file=sys.stderr)
                status = 1
        else:
            mo.write_bytes(compiled)
    return status


if __name__ == "__main__":
    sys.exit(main())
