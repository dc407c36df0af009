"""What an answer is: text, language and numbered citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
        return {k: asdict(self)[k] for k in ("n", "document", "file", "page", "section", "text")}


@dataclass(frozen=True)
class CitedAnswer:
    answer: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    found: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "language": self.language,
            "citations": [c.to_dict() for c in self.citations],
        }
