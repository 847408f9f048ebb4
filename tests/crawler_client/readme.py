"""Run the README's shell walkthroughs as they are written, so every command shown is tested.

`blocks(heading)` returns the ```sh blocks of one README section (up to the next heading of the
same or a higher level). `Shell.run(block)` executes a block the way a reader pasting it into a
POSIX shell would, for the small shell language the README uses: `\\` line continuations, `#`
comments, single and double quotes, `$NAME` / `${NAME}` expansion and `NAME=$(kotowari …)` to
capture a command's standard output. Every command must be `kotowari …`; it runs in this process
(`crawler_client.cli.main`, so a walkthrough costs no interpreter start per command), with its
exit status, standard output and standard error recorded in `Shell.ran` for the test to assert on.
`http://127.0.0.1:8000` is replaced by the test registry's URL.
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


def blocks(heading: str, language: str = "sh") -> list[str]:
    """The ```sh (or other `language`) blocks under the README heading whose text is `heading`."""
    lines = README.read_text(encoding="utf-8").splitlines()
    found: list[str] = []
    level: int | None = None
    block: list[str] | None = None
    for line in lines:
        if block is not None:
            if line.startswith("```"):
                found.append("\n".join(block))
                block = None
            else:
                block.append(line)
            continue
        match = _HEADING.match(line)
        if match:
            if level is not None and len(match.group(1)) <= level:
                break
            if match.group(2).strip() == heading:
                level = len(match.group(1))
            continue
        if level is not None and line.strip() == f"```{language}":
            block = []
    if level is None:
        raise AssertionError(f"README has no section {heading!r}")
    return found


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

    def run(self, block: str) -> list[Ran]:
        """Run every command of `block`; the ones it ran."""
        start = len(self.ran)
        for line in _logical_lines(block):
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
        if not words or words[0] != "kotowari":
            raise AssertionError(f"the README may only run kotowari here: {text!r}")
        argv = [self.registry if word == README_REGISTRY else word for word in words[1:]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exit_:  # argparse: --help, usage errors
                status = int(exit_.code or 0)
        ran = Ran(argv, status, out.getvalue(), err.getvalue())
        assert "Traceback" not in ran.err, str(ran)
        self.ran.append(ran)
        return ran

    def _expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in self.variables:
                raise AssertionError(f"${name} is not set when the README uses it")
            return self.variables[name]

        return _VARIABLE.sub(value, text)


def _logical_lines(block: str) -> list[str]:
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
