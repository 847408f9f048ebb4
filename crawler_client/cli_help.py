"""`--help` wrapped by display width, so Japanese help fits the terminal as English help does.

argparse wraps help with `textwrap`, which counts characters and breaks only at spaces: a Japanese
line has no spaces and each of its characters fills two columns (Unicode East Asian Width W or F),
so it ran on past the terminal's edge. `WidthHelpFormatter` measures columns (`display_width`),
breaks between any two wide characters and at spaces, never splits an ASCII word (unless it alone
is wider than the line), and keeps the Japanese line-breaking rules (kinsoku shori) for the common
cases: no line starts with closing punctuation (、。）」 …) and none ends with an opening bracket.
Text with no wide character is still wrapped by `textwrap`, so English help is byte-identical.

>>> wrap("留保する利用、カンマ区切り", 8)
['留保する', '利用、カ', 'ンマ区切', 'り']
>>> display_width("使い方: ")
9
"""

from __future__ import annotations

import argparse
import gettext
import re
import textwrap
import unicodedata
from typing import Final

__all__ = ["WidthHelpFormatter", "display_width", "wrap"]

_NO_START: Final = frozenset(
    "、。，．,.)）」』】〕〉》］｝!！?？:：;；ー…・ぁぃぅぇぉっゃゅょァィゥェォッャュョ"
)
_NO_END: Final = frozenset("（「『【〔〈《［｛(")
_TOKENS: Final = re.compile(r"\s+|[^\s]")


def char_width(char: str) -> int:
    """Columns one character fills: 2 for East Asian wide and full-width, 0 for combining marks."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns `text` fills on a terminal."""
    return sum(char_width(char) for char in text)


def _tokens(text: str) -> list[str]:
    """Spaces, runs of narrow characters (the words textwrap keeps whole), and single wide characters."""
    out: list[str] = []
    for piece in _TOKENS.findall(text):
        glue = out and not out[-1].isspace() and char_width(out[-1][-1]) < 2
        if glue and not piece.isspace() and char_width(piece) < 2:
            out[-1] += piece
        else:
            out.append(piece)
    return out


def wrap(text: str, width: int) -> list[str]:
    """`text` (whitespace already collapsed) in lines of at most `width` columns. Text without a wide
    character is wrapped by `textwrap`, as argparse does, so English help stays byte-identical."""
    if display_width(text) == len(text):
        return textwrap.wrap(text, width)
    width = max(width, 2)
    lines: list[list[str]] = [[]]
    for token in _tokens(text):
        line = lines[-1]
        used = display_width("".join(line))
        if token.isspace():
            if line:
                line.append(token)
            continue
        size = display_width(token)
        if used + size <= width:
            line.append(token)
            continue
        while line and line[-1].isspace():
            line.pop()
        carried = _carried(line, token)
        if carried and display_width("".join(carried)) + size > width:
            line.extend(carried)  # the rules would make the next line too wide: fitting comes first
            carried = []
        if line:
            lines.append(carried)
        while size > width and not lines[-1]:  # one word wider than a line: cut it
            cut, taken = 0, 0
            while cut < len(token) - 1 and taken + char_width(token[cut]) <= width:
                taken += char_width(token[cut])
                cut += 1
            lines[-1].append(token[:cut])
            lines.append([])
            token, size = token[cut:], display_width(token[cut:])
        lines[-1].append(token)
    return ["".join(line).rstrip() for line in lines if "".join(line).strip()]


def _carried(line: list[str], token: str) -> list[str]:
    """What moves from the end of a full `line` to the next one, before `token`: an opening bracket,
    and the character before a closing mark (so neither is left alone at an edge)."""
    carried: list[str] = []
    if token[0] in _NO_START and len(line) > 1 and display_width(line[-1]) == 2:
        carried.append(line.pop())
    while len(line) > 1 and line[-1][-1] in _NO_END:
        carried.insert(0, line.pop())
    return carried


class WidthHelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping by columns (see the module docstring)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = wrap(self._whitespace_matcher.sub(" ", text).strip(), width - len(indent))
        return "\n".join(indent + line for line in lines)

    def _format_usage(self, usage: str | None, actions: object, groups: object, prefix: str | None) -> str:
        """argparse indents the usage's later lines by `len(prefix)`; a Japanese prefix (`使い方: `)
        is wider than it is long, so format with a stand-in of the prefix's width, then put it back."""
        if prefix is None:
            prefix = gettext.gettext("usage: ")  # what argparse says (from our catalog, once installed)
        stand_in = "\x1f" * display_width(prefix)
        text = super()._format_usage(usage, actions, groups, stand_in)  # type: ignore[arg-type]
        return text.replace(stand_in, prefix, 1)
