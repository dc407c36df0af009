"""Answers to broad questions about a topic that no section is titled with.

"Wat zegt het rapport over onderwijs?" may concern a few sentences spread over
several sections. The answer is then those sentences: the ones in the found
documents that name the topic (its words, or their counterparts in the
sentence's language), the closest to the question first, each fact once, in the
order of the documents.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import CitedAnswer
from assistant.lexical import analyse
from assistant.sections import counterparts, is_prose, topic_terms
from assistant.store import SearchHit
from ingest.chunking import sentence_spans

if TYPE_CHECKING:
    from assistant.extractive import Evidence, ExtractiveAnswerer, Links, _Candidate

MIN_WORDS = 5
# Sentences read, the ones that hold most of the topic first: bounds the embedding work.
MAX_TOPIC_SENTENCES = 60
MAX_TOPIC_FACTS = 10
# Facts scored within this of the best one are quoted.
TOPIC_WINDOW = 0.1
# The sentence right after one that names the topic often goes on about it without
# naming it again ("... fell by 6.9%. The report attributes 59% of that decline to
# coal."): it counts as naming the topic at this share of its predecessor's.
CONTINUATION = 0.5
_ENDED = re.compile(r"[.!?…:;\"'”’»)\]]$")


def _holds(terms: set[str], sentence: str, language: str, question_language: str,
           links: Links) -> float:
    """Share of the topic's terms that the sentence names, read in its own language."""
    have = set(analyse(sentence, language))
    found = 0
    for term in terms:
        forms = counterparts(term, language, question_language, links)
        # Compounds: "onderwijs" names "onderwijscurriculum" (a shared beginning alone
        # is not enough: "onderwijs" and "onderste").
        found += any(h == f or len(f) >= 4 and h.startswith(f) for f in forms for h in have)
    return found / len(terms)


def _named_sentences(
    passage: str, terms: set[str], language: str, question_language: str, links: Links,
) -> list[tuple[int, str, float, str]]:
    """(start, sentence, share of the topic it names, the sentence it goes on from) for
    each sentence of a passage. A sentence right after one that names the topic, and
    that does not name it itself, goes on from it (the last field) and counts at
    `CONTINUATION` of its share. A piece that starts in lower case is the rest of a
    sentence cut at a passage's edge, and is left out; so is a byline or a heading."""
    out: list[tuple[int, str, float, str]] = []
    previous, before = 0.0, ""
    for start, end in sentence_spans(passage):
        sentence = " ".join(passage[start:end].split())
        if len(sentence.split()) < MIN_WORDS or sentence[:1].islower() or not is_prose(
            sentence
        ):
            previous, before = 0.0, ""
            continue
        named = _holds(terms, sentence, language, question_language, links)
        if named:
            out.append((start, sentence, named, ""))
        elif not _ENDED.search(sentence):
            # Cut off at the passage's end: what it goes on to say is not here.
            out.append((start, sentence, 0.0, ""))
        else:
            out.append((start, sentence, CONTINUATION * previous, before if previous else ""))
        previous, before = named, sentence
    return out


def topic_answer(answerer: ExtractiveAnswerer, evidence: Evidence) -> CitedAnswer | None:
    """The sentences of the found documents that name a broad question's topic, or None
    when fewer than two do."""
    from assistant.extractive import TERM_BONUS, compose, group_facts, quoted_first

    if answerer.section_chunks is None:
        return None
    terms = topic_terms(evidence.question, evidence.question_language, evidence.generic)
    if not terms:
        return None
    docs = list(dict.fromkeys(str(h.metadata.get("doc_id", "")) for h in evidence.hits))
    found: list[tuple[float, int, int, int, SearchHit, str, str]] = []
    seen: set[str] = set()
    for doc_rank, doc_id in enumerate(d for d in docs if d):
        for chunk in answerer.section_chunks(doc_id):
            if chunk.metadata.get("kind") == "table":
                continue
            language = str(chunk.metadata.get("language", ""))
            for start, sentence, share, follows in _named_sentences(
                chunk.text, terms, language, evidence.question_language, evidence.links
            ):
                # Overlapping passages repeat their edge sentences.
                if sentence in seen:
                    continue
                seen.add(sentence)
                if share > 0:
                    found.append((share, doc_rank, int(chunk.metadata.get("chunk_index", 0)),
                                  start, chunk, sentence, follows))
    if len(found) < 2:
        return None
    found.sort(key=lambda f: (-f[0], f[1], f[2], f[3]))
    found = found[:MAX_TOPIC_SENTENCES]
    vectors = np.asarray(answerer.embedder.embed_documents([f[5] for f in found]))
    scores = vectors @ np.asarray(evidence.query_vector) + TERM_BONUS * np.asarray(
        [f[0] for f in found]
    )
    facts = group_facts(scores.tolist(), vectors, [f[5] for f in found], MAX_TOPIC_FACTS,
                        TOPIC_WINDOW)
    language = evidence.language
    languages = [str(f[4].metadata.get("language", "")) for f in found]
    # Each fact quoted in the question's language where a document says it so; the
    # facts in the order of the documents (the quoted wording's place), those quoted in
    # the question's language first.
    ordered = quoted_first(facts, languages, language, scores.tolist())
    ordered.sort(key=lambda fact: (languages[fact[0]] != language, *found[fact[0]][1:4]))
    return compose(language, _with_continuations(ordered, found))


def _with_continuations(
    ordered: list[list[int]], found: list[tuple[float, int, int, int, SearchHit, str, str]],
) -> list[list[_Candidate]]:
    """The facts as quoted lines. A sentence chosen because it goes on from one that names
    the topic is no line of its own: it is quoted after that sentence when that one is
    quoted, and left out otherwise (alone, it may be about something else). When the two
    come from overlapping passages, both passages are cited."""
    from assistant.extractive import _Candidate

    line_of = {found[fact[0]][5]: k for k, fact in enumerate(ordered)}
    after: dict[int, list[int]] = {}
    kept = []
    for k, fact in enumerate(ordered):
        follows = found[fact[0]][6]
        if not follows:
            kept.append(k)
        elif follows in line_of:
            after.setdefault(line_of[follows], []).append(fact[0])
    lines = []
    for k in kept:
        first, *others = ordered[k]
        more = after.get(k, [])
        quote = " ".join([found[first][5], *(found[i][5] for i in more)])
        lines.append(
            [_Candidate(found[first][4], found[first][1], quote)]
            + [_Candidate(found[i][4], found[i][1], found[i][5]) for i in others]
            + [_Candidate(found[i][4], found[i][1], found[i][5]) for i in more
               if found[i][4].chunk_id != found[first][4].chunk_id]
        )
    return lines
