"""Text normalisation shared by matching, analysis and evaluation."""

from __future__ import annotations

import re
import unicodedata

_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Perú' matches 'Peru'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, and for each of its characters the index of the character of
    `text` it came from (to map a match in the folded text back to the original)."""
    out: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(text):
        piece = fold(char)
        out.append(piece)
        offsets.extend([i] * len(piece))
    return "".join(out), offsets


def number_key(token: str) -> str:
    """One spelling for a number written with a decimal comma or point ("1,12" → "1.12")."""
    return _DECIMAL_COMMA.sub(".", token)


def normalise_numbers(text: str) -> str:
    """`text` with every decimal comma between digits turned into a point."""
    return _DECIMAL_COMMA.sub(".", text)
