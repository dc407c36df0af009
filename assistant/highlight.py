"""Which sentence of a cited passage supports the answer: what the sources panel highlights.

A quoted answer (extractive answers and summaries) contains the passage sentence
itself, so it is found by text. A written answer (a language model's, possibly in
another language than the passage) is matched by shared terms: names, numbers and
words with a long common beginning (cognates), whatever the language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import Citation
from assistant.citations import markers, strip_markers
from assistant.lexical import analyse, terms_match
from ingest.chunking import sentence_spans

# A written sentence must share at least this share of its terms with a passage
# sentence for that sentence to be highlighted; below it, nothing is (a wrong
# highlight misleads more than none).
MIN_TERM_SHARE = 0.3
_BULLET = re.compile(r"^\s*[-*]\s+")
_SPACE = re.compile(r"\s+")


def _norm(value: str) -> str:
    return _SPACE.sub(" ", value).strip().casefold()


def claims(answer_text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences without markers, each with the citation numbers it carries.

    A bulleted line (quoted answers and summaries) is one quoted sentence with its
    marker; prose (a model's answer) is split into sentences, and a marker that the
    splitter left on its own belongs to the sentence before it.
    """
    found: list[tuple[str, list[int]]] = []
    for line in answer_text.splitlines():
        if _BULLET.match(line):
            pieces = [_BULLET.sub("", line)]
        else:
            pieces = [line[a:b] for a, b in sentence_spans(line)]
        for piece in pieces:
            numbers = markers(piece)
            claim = strip_markers(piece)
            if not numbers:
                continue
            if len(claim) < 3 and found:
                found[-1] = (found[-1][0], [*found[-1][1], *numbers])
            else:
                found.append((claim, numbers))
    return found


def supporting_sentences(
    answer_text: str, citations: Sequence[Citation], language: str
) -> dict[int, list[str]]:
    """For each citation number, the passage sentences (verbatim) that support the answer."""
    by_number = {c.n: c for c in citations}
    result: dict[int, list[str]] = {c.n: [] for c in citations}
    for claim, numbers in claims(answer_text):
        for n in numbers:
            cited = by_number.get(n)
            if cited is None:
                continue
            for sentence in _best_sentences(claim, cited, language):
                if sentence not in result[n]:
                    result[n].append(sentence)
    return result


def _best_sentences(claim: str, cited: Citation, language: str) -> list[str]:
    passage = cited.text
    sentences = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
    wanted = _norm(claim)
    if not wanted:
        return []
    # Quoted: the claim is one or more passage sentences (possibly with framing after it).
    quoted = [s for s in sentences if _norm(s) and (_norm(s) in wanted or wanted in _norm(s))]
    if quoted:
        return quoted
    terms = set(analyse(claim, language))
    if not terms:
        return []
    source_language = cited.language or language
    best, best_share = "", 0.0
    for sentence in sentences:
        have = set(analyse(sentence, source_language))
        # Names and cognates are stemmed differently per language ("panam" in Spanish,
        # "panama" in Dutch): terms match on a long common beginning too.
        share = sum(any(terms_match(t, h) for h in have) for t in terms) / len(terms)
        if share > best_share:
            best, best_share = sentence, share
    return [best] if best_share >= MIN_TERM_SHARE else []


def mark_spans(passage: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of `sentences` in `passage`, sorted and not overlapping."""
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        start = passage.find(sentence)
        if start >= 0:
            spans.append((start, start + len(sentence)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
