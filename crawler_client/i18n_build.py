"""The command line's catalogs, built from the code: extract msgids, keep the .po in step, compile the .mo.

    python -m crawler_client.i18n_build            # compile every .po to its .mo (what is committed)
    python -m crawler_client.i18n_build --update   # also add new msgids to the .po, drop unused ones
    python -m crawler_client.i18n_build --check    # exit 1 if a .mo is stale or a msgid untranslated

The .po is the one source of truth for the Japanese; the .mo is what Python's `gettext` reads, and is
committed so an installed wheel needs no build step. Reading, writing and compiling the files is
`registry.po_files` (pure, shared with the registry's own catalog), so the bytes depend only on the
.po. Extraction is an AST walk, as xgettext does it: the string literals
given to `_()`, `N_()` and `ngettext()` in every crawler_client module that imports them from
`crawler_client.i18n`, then argparse's own messages (it translates them through gettext's current
domain, which the command line makes ours: `crawler_client.i18n.install_argparse`).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

from registry.po_files import Entry, Message, build_catalogs, compile_mo, merge_message, parse_po, write_po
from registry.problem_catalog import Rules, extract_texts

__all__ = [
    "Entry",
    "Message",
    "compile_mo",
    "extract",
    "parse_po",
    "write_po",
]

PACKAGE = Path(__file__).resolve().parent
LOCALES = PACKAGE / "locale"
I18N_NAMES = frozenset({"_", "N_", "ngettext"})


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
            merge_message(by_id, message)
    for message in _argparse_messages():
        merge_message(by_id, message)
    return list(by_id.values()), dynamic


SDK_DOMAIN = "kotowari-sdk"
SDK_RULES = Rules(
    roots=frozenset({"KotowariError", "ValueError", "Exception"}),
    names=frozenset({"reason", "note", "detail", "message", "verb", "tries", "waited", "counting", "source"}),
    reason_calls={"Verdict": (0, 4), "Declaration": (2,), "unreachable": (0,), "unavailable": (0,)},
    lists=frozenset({"notes", "reasons", "lines"}),
    functions=frozenset({"explain"}),
)
"""Where the SDK's own English is: its exceptions' messages, signal verdicts' reasons, `explain()`."""


def extract_sdk(package: Path = PACKAGE) -> tuple[list[Message], list[str]]:
    """The SDK's English texts (domain `kotowari-sdk`): what the SDK says in English to programs (an
    exception's message, a signal's reason) and the command line says again in the locale's language
    by matching it back against these templates (`crawler_client.i18n.said`). Single words (tokens
    such as `allow`, `noai`) and fragments are left out: they are values, not sentences."""
    files = sorted(path for path in package.rglob("*.py") if "__pycache__" not in path.parts)
    trees = [
        (path.relative_to(package.parent).as_posix(), ast.parse(path.read_text("utf-8"))) for path in files
    ]
    found, dynamic = extract_texts(trees, SDK_RULES)
    sentences = [m for m in found if " " in m.msgid.strip() and m.msgid.count("(") == m.msgid.count(")")]
    return sentences, dynamic


def catalogs(locales: Path = LOCALES, domain: str = "kotowari") -> list[Path]:
    return sorted(locales.glob(f"*/LC_MESSAGES/{domain}.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="add new msgids, drop unused ones")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    options = parser.parse_args(argv)
    status = 0
    for domain, (messages, _dynamic) in (("kotowari", extract()), (SDK_DOMAIN, extract_sdk())):
        status |= _build(domain, messages, options.update, options.check)
    return status


def _build(domain: str, messages: list[Message], update: bool, check: bool) -> int:
    command = "python -m crawler_client.i18n_build"
    return build_catalogs(catalogs(domain=domain), messages, update=update, check=check, command=command)


if __name__ == "__main__":
    sys.exit(main())
