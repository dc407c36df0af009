"""Check a generated answer against the passages it was given.

* A marker [n] that points at no passage is removed and flagged.
* A sentence whose cited passages do not support it is flagged. Support is
  the best cosine similarity between the sentence and any sentence of its
  cited passages (multilingual embeddings, so a Dutch sentence can be
  supported by a Spanish passage), or, failing that, a share of its names,
  numbers and domain terms found in them.
* The citations are renumbered 1..k in order of first use, so the answer's
  markers and the citation list agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.answer import Citation
from assistant.extractive import citation
from assistant.store import SearchHit
from ingest.chunking import sentence_spans

_MARKER = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
# Measured with the multilingual E5 model: a sentence restating a passage
# sentence in another language scores above this; unrelated ones below.
SUPPORT_SIMILARITY = 0.82
SUPPORT_TERMS = 0.5


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    invalid_markers: list[int] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    sentences: int = 0
    cited_sentences: int = 0

    @property
    def has_valid_citation(self) -> bool:
        return bool(self.citations)


def markers(text: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def check_answer(
    text: str,
    hits: Sequence[SearchHit],
    embedder: Embeddings,
    unsupported_note: str = "",
    language: str = "en",
) -> CheckedAnswer:
    """Validate markers and support; returns the cleaned, renumbered answer."""
    valid = set(range(1, len(hits) + 1))
    invalid = sorted({n for n in markers(text) if n not in valid})
    order: list[int] = []  # passage numbers in order of first valid use

    def renumber(match: re.Match[str]) -> str:
        kept = []
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(part)
            if n in valid:
                if n not in order:
                    order.append(n)
                kept.append(str(order.index(n) + 1))
        return "".join(f"[{k}]" for k in dict.fromkeys(kept))

    cleaned = re.sub(r"\s+(?=[.,;:!?])", "", _MARKER.sub(renumber, text)).strip()
    sentences = [cleaned[s:e] for s, e in sentence_spans(cleaned)]
    cited = [(s, [order[int(k) - 1] for k in re.findall(r"\[(\d+)\]", s)]) for s in sentences]
    unsupported = _unsupported(cited, hits, embedder, language)
    if unsupported and unsupported_note:
        for sentence in unsupported:
            cleaned = cleaned.replace(sentence, f"{sentence} {unsupported_note}", 1)
    return CheckedAnswer(
        text=cleaned,
        citations=[citation(i + 1, hits[n - 1]) for i, n in enumerate(order)],
        invalid_markers=invalid,
        unsupported=unsupported,
        sentences=len(sentences),
        cited_sentences=sum(1 for _, ns in cited if ns),
    )


def _unsupported(
    cited: Sequence[tuple[str, list[int]]],
    hits: Sequence[SearchHit],
    embedder: Embeddings,
    language: str,
) -> list[str]:
    from assistant.lexical import analyse

    checked = [(s, ns) for s, ns in cited if ns]
    if not checked:
        return []
    passage_sentences: dict[int, list[str]] = {
        n: [hits[n - 1].text[a:b] for a, b in sentence_spans(hits[n - 1].text)]
        or [hits[n - 1].text]
        for n in {n for _, ns in checked for n in ns}
    }
    flat = [(n, s) for n, ss in passage_sentences.items() for s in ss]
    vectors = np.asarray(embedder.embed_documents([s for _, s in flat]))
    claims = np.asarray(embedder.embed_documents([_strip_markers(s) for s, _ in checked]))
    sims = claims @ vectors.T
    out = []
    for i, (sentence, ns) in enumerate(checked):
        columns = [j for j, (n, _) in enumerate(flat) if n in ns]
        best = float(sims[i, columns].max()) if columns else 0.0
        if best >= SUPPORT_SIMILARITY:
            continue
        terms = {
            t
            for t in analyse(_strip_markers(sentence), language)
            if t.startswith("~") or t[0].isdigit()
        }
        have: set[str] = set()
        for n in ns:
            hit = hits[n - 1]
            have |= set(analyse(hit.text, str(hit.metadata.get("language", "en"))))
        if terms and len(terms & have) / len(terms) >= SUPPORT_TERMS:
            continue
        out.append(sentence)
    return out


def _strip_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()
