"""Run the README's shell walkthroughs as they are written, so every command shown is tested.

`blocks(heading)` returns the ```sh blocks of one README section (up to the next heading of the
same or a higher level; `nested=False`: up to the next heading of any level, the section's own
blocks only). `Shell.run(block)` executes a block the way a reader pasting it into a POSIX shell
would, for the small shell language the README uses: `\\` line continuations, `#` comments,
single and double quotes, `$NAME` / `${NAME}` expansion, `NAME=$(kotowari …)` to capture a
command's standard output and `> FILE` to write it to a file. Every command must be `kotowari …`;
it runs in this process (`crawler_client.cli.main`, so a walkthrough costs no interpreter start per
command), with its exit status, standard output and standard error recorded in `Shell.ran` for the
test to assert on. `http://127.0.0.1:8000` is replaced by the test registry's URL, and
`Shell.rewrite` replaces what the reader's machine has and the test's has elsewhere (a site the
README names, served on 127.0.0.1; the registry's data directory). `sh_headings()` names the
heading over every ```sh block, for the test that no block goes unrun (tests/test_readme_shell.py).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from crawler_client.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
README_REGISTRY = "http://127.0.0.1:8000"
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_ASSIGNMENT = re.compile(r"^(\w+)=\$\(")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    heading: str  # the nearest heading above it


def _parsed() -> list[Heading | Block]:
    """The README's headings and fenced blocks, in order. Lines inside a fence are never taken for
    headings (`# …` is a comment in sh and in Python)."""
    found: list[Heading | Block] = []
    heading = ""
    fence: tuple[str, list[str]] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if fence is not None:
            if line.startswith("```"):
                found.append(Block(fence[0], "\n".join(fence[1]), heading))
                fence = None
            else:
                fence[1].append(line)
        elif line.startswith("```"):
            fence = (line[3:].strip(), [])
        elif match := _HEADING.match(line):
            heading = match.group(2).strip()
            found.append(Heading(len(match.group(1)), heading))
    return found


def blocks(heading: str, language: str = "sh", nested: bool = True) -> list[str]:
    """The ```sh (or other `language`) blocks under the README heading whose text is `heading`;
    with `nested=False` only the section's own, not those of its sub-sections."""
    found: list[str] = []
    level: int | None = None
    own = False
    for item in _parsed():
        if isinstance(item, Heading):
            if level is not None:
                if item.level <= level:
                    break
                own = False
            elif item.text == heading:
                level, own = item.level, True
        elif level is not None and (own or nested) and item.language == language:
            found.append(item.text)
    if level is None:
        raise AssertionError(f"README has no section {heading!r}")
    return found


def sh_headings() -> list[str]:
    """The heading right above each ```sh block of the README, in order (repeated per block)."""
    return [item.heading for item in _parsed() if isinstance(item, Block) and item.language == "sh"]


def languages() -> set[str]:
    """Every fence language the README uses (`""` for a bare fence)."""
    return {item.language for item in _parsed() if isinstance(item, Block)}


@dataclass
class Ran:
    argv: list[str]
    status: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"kotowari {shlex.join(self.argv)} -> {self.status}\n{self.out}{self.err}"


@dataclass
class Shell:
    registry: str
    variables: dict[str, str] = field(default_factory=dict)
    ran: list[Ran] = field(default_factory=list)
    rewrite: dict[str, str] = field(default_factory=dict)
    """Replaced inside every word: what the README names and the test has elsewhere (a site's URL
    served on 127.0.0.1, the registry's data directory)."""

    def run(self, block: str) -> list[Ran]:
        """Run every command of `block`; the ones it ran."""
        start = len(self.ran)
        for line in logical_lines(block):
            self._line(line)
        return self.ran[start:]

    def _line(self, line: str) -> None:
        assigned = _ASSIGNMENT.match(line)
        if assigned:
            inner, rest = _until_closing(line[assigned.end() :])
            if shlex.split(rest, comments=True):
                raise AssertionError(f"unsupported shell after $(…): {line!r}")
            ran = self._command(inner)
            assert ran.status == 0, str(ran)
            self.variables[assigned.group(1)] = ran.out.strip()
            return
        if shlex.split(line, comments=True):
            self._command(line)

    def _command(self, text: str) -> Ran:
        words = shlex.split(self._expand(text), comments=True)
        target = None
        if ">" in words:  # `kotowari … > FILE`: standard output to a file, as the shell would
            if words.index(">") != len(words) - 2:
                raise AssertionError(f"only one `> FILE`, at the end, is supported: {text!r}")
            words, target = words[:-2], words[-1]
        if not words or words[0] != "kotowari":
            raise AssertionError(f"the README may only run kotowari here: {text!r}")
        argv = [self.registry if word == README_REGISTRY else self._rewritten(word) for word in words[1:]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exit_:  # argparse: --help, usage errors
                status = int(exit_.code or 0)
        ran = Ran(argv, status, out.getvalue(), err.getvalue())
        assert "Traceback" not in ran.err, str(ran)
        if target is not None:
            Path(target).write_text(ran.out, encoding="utf-8")
        self.ran.append(ran)
        return ran

    def _rewritten(self, word: str) -> str:
        for written, local in self.rewrite.items():
            word = word.replace(written, local)
        return word

    def _expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in self.variables:
                raise AssertionError(f"${name} is not set when the README uses it")
            return self.variables[name]

        return _VARIABLE.sub(value, text)


def logical_lines(block: str) -> list[str]:
    """Lines with their `\\` continuations joined (a comment ends a line, as in the shell)."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\") and not line.lstrip().startswith("#"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _until_closing(text: str) -> tuple[str, str]:
    """`text` up to the `)` that closes a `$(`, outside quotes; and what follows it."""
    depth, quote = 0, ""
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return text[:position], text[position + 1 :]
            depth -= 1
    raise AssertionError(f"unclosed $( in {text!r}")
