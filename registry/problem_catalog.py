"""The registry's catalog of problem texts, built from the code: extract msgids, keep the .po in step.

    python -m registry.problem_catalog            # compile registry/locale/*/LC_MESSAGES/*.po to .mo
    python -m registry.problem_catalog --update   # also add new msgids to the .po, drop unused ones
    python -m registry.problem_catalog --check    # exit 1 if a .mo is stale or a msgid untranslated

Why extraction and not `_()` at ~400 raise sites: a problem's English is written where the refusal
is raised (`InvalidDocumentError(f"invalid URL: {exc}")`, `InvalidURL("no host")`, a pydantic
validator's `ValueError`), reaches the API as a finished English sentence, and must stay exactly that
for English readers. So the msgids are those sentences as templates: an AST walk over registry/ and
api/ takes the first argument of every refusal (a `RegistryError` or `ValueError` subclass, so the
reasons of pure modules such as registry/urls.py are in too), each reason of a (pointer, reason) pair,
each class's `title`, and pydantic's message templates for the error types our schemas produce.
An f-string becomes a brace template whose placeholders are named after their expressions
(`f"invalid URL: {exc}"` → `invalid URL: {exc}`); `registry.problem_text` matches a finished
sentence back against these templates at render time and fills the Japanese with the same values.
Strings built any other way cannot be matched and are listed by `--check` as dynamic.

The .po is the one source of truth; the .mo beside it (compiled by `registry.po_files`) is what the
server reads. Only this builder imports pydantic_core's list of templates; the server does not.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from registry.po_files import Message, build_catalogs, merge_message

__all__ = ["DOMAIN", "LOCALES", "PYDANTIC_TYPES", "Rules", "extract", "extract_texts", "main", "template_of"]

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "registry", ROOT / "api", ROOT / "keys")
DOMAIN = "kotowari-registry"
LOCALES = ROOT / "registry" / "locale"
ROOTS = frozenset({"RegistryError", "ValueError", "OSError", "HTTPException", "KeysError"})
"""Exceptions whose message becomes a problem's detail or a field's reason (and their subclasses)."""

PYDANTIC_TYPES = (
    "missing",
    "extra_forbidden",
    "string_type",
    "string_too_short",
    "string_too_long",
    "string_pattern_mismatch",
    "string_unicode",
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "dict_type",
    "list_type",
    "tuple_type",
    "set_type",
    "frozen_set_type",
    "model_type",
    "model_attributes_type",
    "dataclass_type",
    "literal_error",
    "enum",
    "too_short",
    "too_long",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "multiple_of",
    "finite_number",
    "union_tag_invalid",
    "union_tag_not_found",
    "datetime_type",
    "datetime_parsing",
    "datetime_from_date_parsing",
    "timezone_aware",
    "timezone_naive",
    "date_type",
    "date_parsing",
    "url_type",
    "url_parsing",
    "url_scheme",
    "url_too_long",
    "json_invalid",
    "json_type",
    "none_required",
    "is_instance_of",
    "assertion_error",
    "bytes_type",
    "uuid_type",
    "uuid_parsing",
)
"""The pydantic error types the registry's schemas can produce (field errors of filing and checks)."""

TEXT_NAMES = frozenset({"detail", "reason", "message", "note"})
"""Local variables that hold a problem's text before it is raised (`detail = f"…" if … else "…"`)."""

STDLIB_TEXTS = (
    "Expecting value",
    "Expecting property name enclosed in double quotes",
    "Expecting ',' delimiter",
    "Expecting ':' delimiter",
    "Extra data",
    "Unterminated string starting at",
    "Invalid control character at",
    "Invalid \\escape",
    "Illegal trailing comma before end of object",
    "Illegal trailing comma before end of array",
    "[Errno {errno}] {strerror}",
    "Connection refused",
    "Address already in use",
    "Cannot assign requested address",
    "Connection reset by peer",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "No route to host",
    "Network is unreachable",
    "No such file or directory",
    "Permission denied",
    "Is a directory",
    "timed out",
    # httpx, h11 and OpenSSL, as the client quotes them when a registry cannot be reached
    "Server disconnected without sending a response.",
    "illegal status line: {line}",
    "[SSL: {code}] {reason} (_ssl.c:{line})",
    "wrong version number",
    "certificate verify failed: {reason}",
    "self-signed certificate",
    "self-signed certificate in certificate chain",
    "unable to get local issuer certificate",
    "certificate has expired",
    "Hostname mismatch, certificate is not valid for {host}.",
)
"""What Python and the libraries the client speaks through say inside the registry's and the
client's texts (json's reasons, the socket and file errors' strerror, httpx's and OpenSSL's
reasons), so a refusal that quotes one is not left half English."""

_NOT_SOURCES = ("api/copy/", "api/portal/", "api/glossary.py", "registry/po_files.py", "registry/problem_")
"""The portal's own words (its catalog, api/copy, is separate and complete on its own) and the catalog's
own tools."""


# ---------------------------------------------------------------- templates


def _placeholder(node: ast.expr) -> str:
    name = re.sub(r"\W+", "_", ast.unparse(node)).strip("_")
    return name if name and not name[0].isdigit() else "value"


def template_of(node: ast.expr | None) -> str | None:
    """The brace template of a string literal, an f-string or `"…".format(…)`; None for anything else.

    >>> template_of(ast.parse('f"invalid URL: {exc}"').body[0].value)
    'invalid URL: {exc}'
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("{", "{{").replace("}", "}}")
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        used: dict[str, str] = {}
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value.replace("{", "{{").replace("}", "}}"))
            elif isinstance(value, ast.FormattedValue):
                name = _placeholder(value.value)
                source = ast.unparse(value)
                while name in used and used[name] != source:
                    name += "_"
                used[name] = source
                parts.append("{" + name + "}")
            else:
                return None
        return "".join(parts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return node.func.value.value
    return None


# ---------------------------------------------------------------- extraction


def _files() -> list[tuple[Path, str, ast.Module]]:
    out = []
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            label = path.relative_to(ROOT).as_posix()
            if "__pycache__" in path.parts or label.startswith(_NOT_SOURCES):
                continue
            out.append((path, label, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    return out


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def refusal_classes(trees: list[ast.Module], roots: frozenset[str] = ROOTS) -> set[str]:
    """Names of every class that is (transitively) one of `roots`, by the class definitions in `trees`."""
    bases: dict[str, set[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(base) for base in node.bases)
    found = set(roots)
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _is_pointer(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == "" or node.value.startswith("/")
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return isinstance(first, ast.Constant) and str(first.value).startswith("/")
    return isinstance(node, ast.Call) and "pointer" in _name(node.func)


@dataclass(frozen=True)
class Rules:
    """Where texts are found: the refusal classes' roots, the local names that hold a text, the calls
    whose n-th argument (or `reason=`) is one, and the lists (`notes.append(…)`) that collect them."""

    roots: frozenset[str] = ROOTS
    names: frozenset[str] = TEXT_NAMES
    reason_calls: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    lists: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    """Functions whose returned strings are texts (`Decision.explain`)."""


def _pieces(node: ast.expr | None) -> Iterator[ast.expr | None]:
    """The texts of an expression: itself, or each branch of `a if c else b`, each side of `a + b`,
    each operand of `a or b`."""
    if isinstance(node, ast.IfExp):
        yield from _pieces(node.body)
        yield from _pieces(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _pieces(value)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _pieces(node.left)
        yield from _pieces(node.right)
    else:
        yield node


def _texts(tree: ast.Module, classes: set[str], rules: Rules) -> Iterator[tuple[int, ast.expr | None]]:
    """(line, node) of each text in one module that can reach a problem."""
    for line, node in _candidates(tree, classes, rules):
        for piece in _pieces(node):
            yield line, piece


def _candidates(tree: ast.Module, classes: set[str], rules: Rules) -> Iterator[tuple[int, ast.expr | None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in rules.functions:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    yield inner.lineno, inner.value
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and _name(node.targets[0]) in rules.names
            and isinstance(node.targets[0], ast.Name)
        ):
            yield node.lineno, node.value
        if isinstance(node, ast.Call) and _name(node.func) in rules.reason_calls:
            for index in rules.reason_calls[_name(node.func)]:
                if len(node.args) > index:
                    yield node.lineno, node.args[index]
            for keyword in node.keywords:
                if keyword.arg == "reason":
                    yield node.lineno, keyword.value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and _name(node.func.value) in rules.lists
            and node.args
        ):
            yield node.lineno, node.args[0]
        if isinstance(node, ast.Call) and _name(node.func) in classes:
            detail = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg in ("detail", "message"):
                    detail = keyword.value
            if not isinstance(detail, ast.List | ast.Tuple):
                yield node.lineno, detail
        elif isinstance(node, ast.Call) and _name(node.func) == "problem" and len(node.args) >= 4:
            yield node.lineno, node.args[2]
            yield node.lineno, node.args[3]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and _is_pointer(node.elts[0]):
            yield node.lineno, node.elts[1]
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                yield from _title(statement)
        elif isinstance(node, ast.Dict) and any(
            isinstance(value, ast.Tuple) and len(value.elts) == 2 for value in node.values
        ):
            for value in node.values:  # `_HTTP_SLUGS = {404: ("not-found", "Not found")}`
                if isinstance(value, ast.Tuple) and len(value.elts) == 2 and _slug(value.elts[0]):
                    yield node.lineno, value.elts[1]


def _slug(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and "-" in node.value


def _title(statement: ast.stmt) -> Iterator[tuple[int, ast.expr | None]]:
    if isinstance(statement, ast.AnnAssign) and _name(statement.target) == "title":
        yield statement.lineno, statement.value
    elif isinstance(statement, ast.Assign):
        for target in statement.targets:
            if _name(target) == "title":
                yield statement.lineno, statement.value
            elif isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
                for element, value in zip(target.elts, statement.value.elts, strict=False):
                    if _name(element) == "title":
                        yield statement.lineno, value


def pydantic_templates() -> list[Message]:
    """pydantic's English message template of each type in `PYDANTIC_TYPES`."""
    from pydantic_core._pydantic_core import list_all_errors

    templates: dict[str, str] = {e["type"]: e["message_template_python"] for e in list_all_errors()}
    return [Message(templates[kind], places=[f"pydantic:{kind}"]) for kind in PYDANTIC_TYPES]


def extract_texts(files: list[tuple[str, ast.Module]], rules: Rules) -> tuple[list[Message], list[str]]:
    """The texts of `files` ((label, module) pairs) as templates, in order of first use, and the places
    whose text is built in a way extraction cannot follow (no catalog entry can match them)."""
    classes = refusal_classes([tree for _label, tree in files], rules.roots)
    by_id: dict[str, Message] = {}
    dynamic: list[str] = []
    for label, tree in files:
        for line, node in sorted(_texts(tree, classes, rules), key=lambda found: found[0]):
            text = template_of(node)
            place = f"{label}:{line}"
            if text is None:
                if _built(node):
                    dynamic.append(place)
                continue
            if not re.search(r"[A-Za-z]{2}", re.sub(r"\{\w*\}", "", text)):
                continue  # no words: nothing to translate
            merge_message(by_id, Message(text, places=[place]))
    return list(by_id.values()), dynamic


def _built(node: ast.expr | None) -> bool:
    """A text assembled in place (a `%` or `.join` of pieces, say) that no template can match; not a
    name, attribute or call whose value was extracted where it was made, nor a number, None, a
    container (`lines.append([])`, `raise Stopped(*found)`) or the awaited or yielded result of a
    call (a checkpoint note, not a message)."""
    passed_on = ast.Name | ast.Attribute | ast.Call | ast.Await | ast.YieldFrom | ast.Starred
    if node is None or isinstance(node, passed_on | ast.List | ast.Tuple | ast.Dict):
        return False
    return not (isinstance(node, ast.Constant) and not isinstance(node.value, str))


def extract() -> tuple[list[Message], list[str]]:
    """Every problem text of registry/, api/ and keys/ (as a template), then pydantic's templates."""
    files = [(label, tree) for _path, label, tree in _files()]
    messages, dynamic = extract_texts(files, Rules())
    by_id = {message.msgid: message for message in messages}
    for message in pydantic_templates():
        merge_message(by_id, message)
    for text in STDLIB_TEXTS:
        merge_message(by_id, Message(text, places=["python"]))
    return list(by_id.values()), dynamic


# ---------------------------------------------------------------- build


def catalogs(locales: Path = LOCALES) -> list[Path]:
    return sorted(locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="add new msgids, drop unused ones")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    options = parser.parse_args(argv)
    messages, _dynamic = extract()
    return build_catalogs(
        catalogs(),
        messages,
        update=options.update,
        check=options.check,
        command="python -m registry.problem_catalog",
    )


if __name__ == "__main__":
    sys.exit(main())
