"""Summaries of a document or one of its sections, with citations.

Without a model the summary is extractive: the sentences closest to the
centre of the section (by embedding), in document order, each cited. With a
model it is map-reduce: batches of passages that fit the context window are
summarised one by one, then the partial summaries are combined, keeping the
[n] markers, which are then checked like any generated answer. With the bundled
small model ("translate" style) it is the extractive summary, translated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import CitedAnswer
from assistant.extractive import citation
from assistant.lexical import analyse, terms_match
from assistant.messages import language_name, messages, text
from assistant.store import DocumentRecord, SearchHit
from assistant.textnorm import fold
from ingest.chunking import sentence_spans

if TYPE_CHECKING:
    from assistant.core import Assistant

SUMMARY_SENTENCES = 5
CHARS_PER_TOKEN = 4  # a safe average for Dutch, Spanish and English
_SECTION_NUMBER = re.compile(
    r"(?:section|secci[oó]n|sectie|hoofdstuk|paragraaf|cap[ií]tulo|chapter|§)?\s*"
    r"(\d{1,2}(?:\.\d{1,2})*)\b",
    re.IGNORECASE,
)


class SummaryError(ValueError):
    """The document or section asked for does not exist; the message lists what does."""


@dataclass(frozen=True)
class SectionChoice:
    document: DocumentRecord
    section: str | None  # a section path prefix, or None for the whole document
    chunks: list[SearchHit]


def find_document(documents: Sequence[DocumentRecord], query: str) -> DocumentRecord | None:
    """By id prefix, file name, or a word of the title, in that order."""
    q = fold(query.strip())
    if not q:
        return None
    for match in (
        lambda d: d.doc_id.startswith(query.strip()),
        lambda d: fold(d.file_name) == q or fold(d.file_name).rsplit(".", 1)[0] == q,
        lambda d: q in fold(d.title) or q in fold(d.file_name),
    ):
        found = [d for d in documents if match(d)]
        if len(found) == 1:
            return found[0]
    return None


def outline(chunks: Sequence[SearchHit]) -> list[str]:
    """Section paths in document order."""
    seen: dict[str, None] = {}
    for c in sorted(chunks, key=lambda c: int(c.metadata.get("chunk_index", 0))):
        path = str(c.metadata.get("section_path", ""))
        if path:
            seen.setdefault(path, None)
    return list(seen)


def match_section(
    paths: Sequence[str], query: str, language: str,
    links: dict[str, dict[str, str]] | None = None,
) -> str | None:
    """The section a request names: by number ("4", "section 4.1") or by words, in the
    request's language or, through `links` (a question's words and their counterparts
    per language, `TermBridge.links`), in any language of the index."""
    titles = {p: p.split(" > ")[-1] for p in paths}
    number = _SECTION_NUMBER.search(query)
    if number:
        wanted = number.group(1)
        for path, title in titles.items():
            head = title.split()[0].rstrip(".")
            if head == wanted:
                return path
    asked = {
        term: {term, *(links or {}).get(term, {}).values()}
        for term in analyse(query, language)
    }
    best, best_score = None, 0.0
    for path, title in titles.items():
        have = set(analyse(title, "nl")) | set(analyse(title, "es")) | set(analyse(title, "en"))
        found = sum(
            any(terms_match(form, h) for form in forms for h in have)
            for forms in asked.values()
        )
        score = found / (len(have) or 1)
        # The shallower section wins a tie: "recommendations" means all of them.
        if score > best_score or (score == best_score and best and len(path) < len(best)):
            best, best_score = path, score
    return best if best_score > 0 else None


def choose(
    assistant: Assistant, document: str, section: str | None, language: str
) -> SectionChoice:
    docs = assistant.documents()
    doc = find_document(docs, document)
    if doc is None:
        raise SummaryError(text(language, "document_not_found", document=document))
    chunks = assistant.store.document_chunks(doc.doc_id)
    if not section:
        return SectionChoice(doc, None, chunks)
    paths = outline(chunks)
    # A path picked from the outline (the web UI) is taken as is.
    if section in paths:
        path: str | None = section
    else:
        from assistant.language import detect_language

        # A section named in another language than the document's: the request's
        # words are linked to the document's through the index's word bridge.
        asked_in = detect_language(section, language)
        path = match_section(paths, section, asked_in,
                             assistant.retriever.term_links(section, asked_in))
    if path is None:
        listed = "; ".join(p.split(" > ")[-1] for p in paths)
        raise SummaryError(
            text(
                language,
                "section_not_found",
                section=section,
                document=doc.file_name,
                sections=listed,
            )
        )
    picked = [c for c in chunks if str(c.metadata.get("section_path", "")).startswith(path)]
    return SectionChoice(doc, path, picked)


def extractive_summary(
    assistant: Assistant, choice: SectionChoice, language: str, sentences: int = SUMMARY_SENTENCES
) -> CitedAnswer:
    seen: set[str] = set()
    candidates = []
    for i, chunk in enumerate(choice.chunks):
        if chunk.metadata.get("kind") == "table":
            continue
        for a, b in sentence_spans(chunk.text):
            sentence = chunk.text[a:b]
            key = " ".join(fold(sentence).split())
            # Overlapping chunks repeat their edge sentences; each counts once.
            if len(sentence.split()) >= 6 and key not in seen:
                seen.add(key)
                candidates.append((i, chunk, sentence))
    if not candidates:
        candidates = [(i, c, c.text) for i, c in enumerate(choice.chunks)]
    vectors = np.asarray(assistant.embedder.embed_documents([s for _, _, s in candidates]))
    centre = vectors.mean(axis=0)
    centrality = vectors @ (centre / (np.linalg.norm(centre) or 1.0))
    best = sorted(np.argsort(-centrality)[:sentences])  # back in document order
    numbers: dict[str, int] = {}
    citations = []
    intro = text(language, "summary_intro", what=_what(choice, language))
    source = choice.document.language
    if source and source != language:
        # Quoted sentences stay in the document's language: say so, as answers do.
        quoted = text(language, "quoted_in", language=language_name(language, source))
        intro = f"{intro.rstrip(':')} {quoted}:"
    lines = [intro]
    for k in best:
        _, chunk, sentence = candidates[int(k)]
        if chunk.chunk_id not in numbers:
            numbers[chunk.chunk_id] = len(numbers) + 1
            citations.append(citation(numbers[chunk.chunk_id], chunk))
        lines.append(f"- {sentence.strip()} [{numbers[chunk.chunk_id]}]")
    return CitedAnswer("\n".join(lines), language, citations, found=True)


def generated_summary(assistant: Assistant, choice: SectionChoice, language: str) -> CitedAnswer:
    """Map-reduce with the configured chat model; extractive on any failure."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from assistant.generation.chain import checked_or_fallback, format_passages

    model, note = assistant._chat_model(language)  # noqa: SLF001 - same package
    fallback = extractive_summary(assistant, choice, language)
    if model is None:
        return fallback.with_note(note) if note else fallback
    settings = assistant.settings
    if settings.answer_style == "translate":
        from assistant.answer import final_answer
        from assistant.generation.translate import translate_answer

        return final_answer(translate_answer(model, fallback, language, assistant.generator_name,
                                             assistant.embedder))
    m = messages(language)
    lang_name = language_name(language, language)
    budget = (settings.llm_context - settings.llm_max_tokens - 300) * CHARS_PER_TOKEN
    parser = StrOutputParser()
    map_chain = ChatPromptTemplate.from_messages([("human", m["summary_map"])]) | model | parser
    reduce_chain = (
        ChatPromptTemplate.from_messages([("human", m["summary_reduce"])]) | model | parser
    )
    try:
        partials = []
        for batch in _batches(choice.chunks, budget):
            numbered = format_passages(batch)
            # Number passages by their place in the whole section, not in the batch.
            first = choice.chunks.index(batch[0])
            numbered = re.sub(
                r"^\[(\d+)\]",
                lambda mm, first=first: f"[{int(mm.group(1)) + first}]",
                numbered,
                flags=re.M,
            )
            partials.append(map_chain.invoke({"passages": numbered, "language": lang_name}))
        summary = (
            partials[0]
            if len(partials) == 1
            else reduce_chain.invoke({"summaries": "\n\n".join(partials), "language": lang_name})
        )
    except Exception as err:  # noqa: BLE001 - fall back with a note, never a traceback
        return fallback.with_note(text(language, "generator_failed", reason=str(err)[:160]))
    intro = text(language, "summary_intro", what=_what(choice, language))
    return checked_or_fallback(
        summary, choice.chunks, assistant.embedder, language, fallback, assistant.generator_name,
        intro,
    )


def _batches(chunks: Sequence[SearchHit], budget_chars: int) -> list[list[SearchHit]]:
    """Consecutive chunks grouped so each group's text fits the model's context."""
    batches: list[list[SearchHit]] = []
    current: list[SearchHit] = []
    size = 0
    for chunk in chunks:
        length = len(chunk.text) + 80  # plus the numbered source line
        if current and size + length > budget_chars:
            batches.append(current)
            current, size = [], 0
        current.append(chunk)
        size += length
    if current:
        batches.append(current)
    return batches


def _what(choice: SectionChoice, language: str) -> str:
    where = choice.section.split(" > ")[-1] if choice.section else text(language, "whole_document")
    return f"{where} — {choice.document.title}"
