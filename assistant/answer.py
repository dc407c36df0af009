"""What an answer is: text, language and numbered citations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

History = Sequence[tuple[str, str]]  # (question, answer) pairs of a chat, oldest first
# In an answer's text, the line under a translated "- " line that quotes its source as
# written (a Markdown quote inside the list item).
ORIGINAL_PREFIX = "  > "


@dataclass(frozen=True)
class Citation:
    n: int
    document: str  # title
    file: str
    page: int
    section: str
    text: str  # the passage
    doc_id: str = ""
    language: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        fields = ("n", "document", "file", "page", "section", "text", "language", "doc_id")
        return {k: asdict(self)[k] for k in fields}


@dataclass(frozen=True)
class CitedAnswer:
    answer: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    found: bool = True
    generator: str = "extractive"  # what wrote the answer text
    notes: list[str] = field(default_factory=list)  # e.g. why the model was not used
    invalid_markers: list[int] = field(default_factory=list)  # removed [n] that cited nothing
    unsupported: list[str] = field(default_factory=list)  # sentences flagged as unsupported

    def with_note(self, note: str) -> CitedAnswer:
        """The same answer, headed by a note (e.g. why the language model was not used)."""
        return CitedAnswer(
            f"{note}\n\n{self.answer}", self.language, self.citations, self.found,
            notes=[*self.notes, note],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "language": self.language,
            "citations": [c.to_dict() for c in self.citations],
        }


def final_answer(events: Iterable[str | CitedAnswer]) -> CitedAnswer:
    """Run a stream of text pieces to its end and return the answer it closes with."""
    final: CitedAnswer | None = None
    for event in events:
        if isinstance(event, CitedAnswer):
            final = event
    if final is None:
        raise RuntimeError("the answer stream ended without an answer")
    return final
