"""A quoted answer put into the asker's language by a chat model.

A small local model that writes an answer from the passages drops facts the
quoted answer holds (README: key-fact recall 0.45 against 0.63 for the 1.5B
model on the sample test split). Here the extractive answerer still chooses
what to say, and the model only translates its quoted lines that are in
another language. The prompt is a few lines instead of five passages, so the
answer also comes sooner. A translated line must keep the numbers and places
of its quote, mean what it says (embedding similarity) and be in the asked
language; otherwise the line stays quoted as written. Each translated line
keeps its quote beneath it, and the citations keep the passages verbatim.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from assistant.answer import ORIGINAL_PREFIX, CitedAnswer, final_answer
from assistant.extractive import ExtractiveAnswerer, quoted_note, same_fact
from assistant.generation.chain import short_reason
from assistant.language import detect_language
from assistant.messages import language_list, language_name, messages, text
from assistant.names import find_names
from assistant.store import SearchHit
from assistant.textnorm import fold

log = logging.getLogger(__name__)

# "- <quoted sentence> [1][2] (also Spanish [3])": the quote, then its markers and notes.
_BULLET = re.compile(r"^- (?P<body>.*?)(?P<tail>\s*(?:\[\d+\])+(?:\s*\(.*\))?)\s*$")
_NUMBER = re.compile(r"\d[\d.,]*\d|\d")
_ITEM = re.compile(r"^\s*(\d{1,2})\s*[.):]\s*(.*)$")
_MARKER = re.compile(r"\s*\[\d+\]")
MIN_WORDS = 3  # a name or a figure alone reads the same in every language
# Least cosine (multilingual embedder) between a quote and its translation, fitted on
# the development splits of both sample corpora, where translations sat at 0.90–0.96
# (5th–95th percentile). 0.88 rejects the one outlier, which lifts the key-fact recall
# of the translated lines alone from 0.76 to 0.78 and keeps 76 of 77 translations;
# higher floors recall more only by translating less (0.92: 0.80, 46 of 77).
MIN_SIMILARITY = 0.88


@dataclass(frozen=True)
class _Line:
    index: int  # in the answer's lines
    body: str
    tail: str
    language: str


def foreign_lines(answer: CitedAnswer, language: str) -> list[_Line]:
    """The quoted lines of an answer that are not in `language`: the document they
    quote from is in another language, and so is the line itself (a table row of
    figures and names needs no translation)."""
    document_language = {c.n: c.language for c in answer.citations}
    found = []
    for i, line in enumerate(answer.answer.splitlines()):
        match = _BULLET.match(line)
        if not match:
            continue
        body = match.group("body").strip()
        first = int(re.search(r"\[(\d+)\]", match.group("tail")).group(1))  # type: ignore[union-attr]
        source = document_language.get(first, "")
        if source == language or len(re.findall(r"[^\W\d_]{2,}", body)) < MIN_WORDS:
            continue
        if detect_language(body, language) != language:
            found.append(_Line(i, body, match.group("tail"), source or "?"))
    return found


def _digits(text_: str) -> list[str]:
    """The numbers of a text without their separators (73.07 and 73,07 are one number)."""
    return sorted(re.sub(r"\D", "", n) for n in _NUMBER.findall(text_))


def parse_items(raw: str, count: int) -> dict[int, str]:
    """"1. …\\n2. …" from a model: item number → text (a wrapped item is joined)."""
    items: dict[int, str] = {}
    current = 0
    for line in raw.splitlines():
        match = _ITEM.match(line)
        if match:
            # An item number past the lines asked for is the model adding its own.
            current = int(match.group(1)) if 1 <= int(match.group(1)) <= count else 0
            if current:
                items[current] = match.group(2).strip()
        elif current and line.strip():
            items[current] += " " + line.strip()
    return {n: _MARKER.sub("", t).strip() for n, t in items.items()}


def _places(text_: str) -> set[str]:
    """The countries and regions a text names (CLDR), whatever the spelling. Language
    names are left out: "Latin American" names no language."""
    return {name.key for _, name in find_names(fold(text_)) if name.key.startswith("territory:")}


def accepted(source: _Line, translated: str, language: str, similarity: float = 1.0) -> bool:
    """A translation stands in for the quote only if it keeps the quote's numbers and
    places, is in the asked language, and means what the quote says (embedding
    similarity across languages): a small model may drop or change a figure, turn "the
    United States and Europe" into "the East and the West", or drop a clause."""
    if not translated or _digits(translated) != _digits(source.body):
        return False
    if not _places(source.body) <= _places(translated):
        return False
    if similarity < MIN_SIMILARITY:
        return False
    return detect_language(translated, language) == language


def translate_prompt(language: str) -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("human", messages(language)["translate"])])


def _strip_quoted_in(header: str, language: str) -> str:
    """The header without "(quoted in Spanish)": its lines are no longer quotes."""
    template = re.escape(messages(language)["quoted_in"]).replace(r"\{language\}", "[^)]*")
    return re.sub(r"\s*" + template, "", header)


def translate_answer(
    model: BaseChatModel, quoted: CitedAnswer, language: str, name: str,
    embedder: Embeddings | None = None, deadline: float | None = None,
) -> Iterator[str | CitedAnswer]:
    """Yields the model's translation as it comes, then the answer with its foreign
    quoted lines in `language`; the quoted answer (with a note) if the model fails.

    At `deadline` (a `time.monotonic()` value) the model is stopped: the lines it
    has translated by then are used, and the rest stay quoted. On two cores the
    model writes some 20 tokens a second, so six long lines take 15-25 s
    (README); an answer that must come within seconds gets its first lines
    translated rather than all of them late."""
    todo = foreign_lines(quoted, language) if quoted.found else []
    if not todo:
        yield quoted
        return
    numbered = "\n".join(f"{k}. {line.body}" for k, line in enumerate(todo, 1))
    # Greedy decoding: a translation has one best answer, and sampling only adds errors.
    prompt = translate_prompt(language).invoke(
        {"lines": numbered, "language": language_name(language, language)})
    # The header first, so the streamed text reads as the answer taking shape.
    yield quoted.answer.splitlines()[0] + "\n"
    pieces: list[str] = []
    # The model's own stream, not a prompt | model | parser chain: closed early, a
    # chain first reads the model's stream to its end (for its run's trace), so the
    # model would write on, unseen, for as long as it would have taken anyway.
    stream = model.bind(temperature=0.0).stream(prompt)
    late = False
    try:
        for chunk in stream:
            piece = chunk.text
            if not piece:
                continue
            pieces.append(piece)
            yield piece
            if deadline is not None and time.monotonic() >= deadline:
                late = True
                break
    except Exception as err:  # noqa: BLE001 - any model failure falls back, with a note
        log.warning("translation by %s failed: %s", name, err)
        yield quoted.with_note(text(language, "generator_failed", reason=short_reason(err)))
        return
    finally:
        stream.close()  # stops the model's decoding, and frees it for the next question
    items = parse_items("".join(pieces), len(todo))
    if late and items:
        del items[max(items)]  # the line being written when time ran out is cut short
    yield rebuilt(quoted, todo, items, language, name, embedder, late)


def _similarities(
    todo: Sequence[_Line], items: dict[int, str], embedder: Embeddings | None
) -> dict[int, float]:
    """Cosine of each translation to its quote (unit vectors), by item number."""
    numbered = [k for k in range(1, len(todo) + 1) if items.get(k)]
    if embedder is None or not numbered:
        return {}
    vectors = np.asarray(embedder.embed_documents(
        [todo[k - 1].body for k in numbered] + [items[k] for k in numbered]
    ))
    half = len(numbered)
    return {k: float(vectors[i] @ vectors[half + i]) for i, k in enumerate(numbered)}


def merge_repeats(lines: list[str], embedder: Embeddings) -> list[str | None]:
    """Lines that state one fact, once translated into one language (two reports'
    wordings that the quoted answer kept apart), become the first line citing both;
    the later ones are None."""
    bullets = [(i, m) for i, line in enumerate(lines) if (m := _BULLET.match(line))]
    merged: list[str | None] = list(lines)
    if len(bullets) < 2:
        return merged
    bodies = [m.group("body").strip() for _, m in bullets]
    vectors = np.asarray(embedder.embed_documents(bodies))
    repeats: dict[int, int] = {}  # a later line -> the first line that states its fact
    for b in range(len(bullets)):
        for a in range(b):
            if a not in repeats and same_fact(vectors[a], vectors[b], bodies[a], bodies[b]):
                repeats[b] = a
                break
    for a in sorted(set(repeats.values())):
        i, match = bullets[a]
        tail = match.group("tail")
        run = re.match(r"\s*(?:\[\d+\])+", tail)
        assert run is not None  # the tail starts with its markers
        have = re.findall(r"\[\d+\]", run.group(0))
        extra = [mark for b, first in repeats.items() if first == a
                 for mark in re.findall(r"\[\d+\]", bullets[b][1].group("tail"))]
        new = "".join(mark for mark in dict.fromkeys(extra) if mark not in have)
        merged[i] = f"- {bodies[a]}{run.group(0)}{new}{tail[run.end():]}"
    for b in repeats:
        merged[bullets[b][0]] = None
    return merged


def rebuilt(
    quoted: CitedAnswer, todo: Sequence[_Line], items: dict[int, str], language: str, name: str,
    embedder: Embeddings | None = None, late: bool = False,
) -> CitedAnswer:
    """The quoted answer with each accepted translation in place of its line. `late`:
    the model was stopped before it had translated every line."""
    lines = quoted.answer.splitlines()
    note_prefix = messages(language)["quoted_note"].split("{", 1)[0]
    translated_from: list[str] = []
    still_quoted: list[str] = []
    originals: dict[int, str] = {}  # line index -> the quote its translation replaced
    similarity = _similarities(todo, items, embedder)
    for k, line in enumerate(todo, 1):
        translation = items.get(k, "")
        if accepted(line, translation, language, similarity.get(k, 1.0)):
            lines[line.index] = f"- {translation}{line.tail}"
            originals[line.index] = line.body
            if line.language not in translated_from:
                translated_from.append(line.language)
        elif line.language not in still_quoted:
            still_quoted.append(line.language)
    why = "untranslated_late" if late else "untranslated_note"
    if not translated_from:
        # The model did try: the note must not promise that one would translate.
        note = quoted_note(language, still_quoted)
        return replace(quoted, answer=quoted.answer.replace(note, text(
            language, why, languages=language_list(language, still_quoted))))
    merged = merge_repeats(lines, embedder) if embedder is not None else list(lines)
    kept: list[str] = []
    for i, line in enumerate(merged):
        if line is None or line.startswith(note_prefix):
            continue
        kept.append(line)
        if i in originals:
            # The quote stays under its translation: the reader can check a small
            # model's wording, and a journalist can cite the source's own words.
            kept.append(ORIGINAL_PREFIX + originals[i])
    if not still_quoted:
        kept[0] = _strip_quoted_in(kept[0], language)
    else:
        kept.append(text(language, why, languages=language_list(language, still_quoted)))
    kept.append(text(language, "translated_note",
                     languages=language_list(language, translated_from)))
    return CitedAnswer("\n".join(kept), language, quoted.citations, found=True, generator=name)


class TranslatedAnswerer:
    """The extractive answer, its foreign quotes translated by a chat model."""

    def __init__(
        self, model: BaseChatModel, name: str, extractive: ExtractiveAnswerer,
        embedder: Embeddings | None = None, deadline: float | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.extractive = extractive
        self.embedder = embedder
        self.deadline = deadline  # see `translate_answer`

    def answer(
        self, question: str, language: str, vector: Sequence[float], hits: Sequence[SearchHit]
    ) -> CitedAnswer:
        return final_answer(self.stream(question, language, vector, hits))

    def stream(
        self, question: str, language: str, vector: Sequence[float], hits: Sequence[SearchHit]
    ) -> Iterator[str | CitedAnswer]:
        quoted = self.extractive.answer(question, language, vector, hits)
        yield from translate_answer(self.model, quoted, language, self.name, self.embedder,
                                    self.deadline)
