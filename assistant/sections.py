"""Answers to broad questions from the section they concern.

"What does the report recommend?", "¿Cuáles son los principales hallazgos?" or
"Hoe wordt de score berekend?" ask for what a whole section says, not for one
sentence. Such a question is recognised by its question words (the
languages' own phrasings, not any document's). The section is the top-level
section whose title matches the question's words (or their counterparts in
the section's language) and that holds the passages retrieval ranked best.
The answer gives the section's points in document order: the lead of each
subsection, else its list items, else its most central sentences. It quotes
one document, in the question's language where one has the section; the same
section in the other documents is cited with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import CitedAnswer
from assistant.lexical import analyse, terms_match
from assistant.messages import language_name, text
from assistant.store import SearchHit
from assistant.textnorm import fold
from ingest.chunking import SECTION_SEPARATOR, sentence_spans

if TYPE_CHECKING:
    from assistant.extractive import ExtractiveAnswerer, Links

MAX_POINTS = 12
MAX_POINT_CHARS = 320
SHORT_SENTENCE = 90  # characters
# The least words of a point of a whole document, which a date line or byline lacks.
MIN_LEAD_WORDS = 6
FIGURE_BONUS = 0.02
_BULLETS = re.compile(r"\s*[•▪◦●‣]\s+")
_ACTIONS = (r"(maatregel\w*|stappen|acties|medidas|acciones|pol[ií]ticas|pasos|measures|"
            r"steps|actions|policies)")
_WHICH_ACTIONS = (r"(welke|wat voor|qu[eé]|cu[aá]les|which|what)\b(\s+\w+){0,3}?\s+"
                  + _ACTIONS + r"\b")
# Broad questions, by their question words in Dutch, Spanish and English.
_BROAD = re.compile(
    r"aanbevel|beveelt|\braadt\b|\badvie|bevinding|conclusie|samenvat|\bvat\b.*\bsamen|"
    r"wat zegt|wat staat er|waarover gaat|waar gaat|belangrijkste punten|"
    r"hoofdpunten|kernpunten|kernboodschap|wat schrijft|wat stelt|wat vermeldt|"
    r"geef een overzicht|\bvertel\b|\bbeschrijf|"
    r"hoe wordt .*\b(berekend|bepaald|gemeten|samengesteld|opgebouwd)|"
    r"hoe (meet|meten|berekent|berekenen|bepaalt|bepalen)\b|"
    r"recomiend|recomendaci|aconseja|hallazgo|conclusiones|resum|qu[eé] dice|de qu[eé] trata|"
    r"qu[eé] (propone|plantea|se[nñ]ala|menciona|sostiene|concluye)|"
    r"puntos principales|puntos clave|ideas principales|mensajes principales|"
    r"principales resultados|h[aá]blame de|\bdescrib[ea]\b|panorama de|"
    r"c[oó]mo se (calcula|mide|determina|construye|compone|elabora)|"
    r"c[oó]mo (calcula|mide|determina|construye)n?\b|"
    r"recommend|advise|findings|conclusions|summari[sz]|what does .*\bsay\b|main points|"
    r"key points|what is .* about|takeaways|key messages|main messages|"
    r"what does .*\b(propose|suggest|conclude|note|mention|state|argue)\b|"
    r"what is said about|tell me about|give an overview|\boverview of\b|\bdescribe\b|"
    r"how (is|are) .*\b(computed|calculated|measured|determined|constructed|built|scored)|"
    r"how (does|do) .*\b(compute|calculate|measure|determine|construct|score)\b|"
    # "Welke maatregelen …?", "¿Qué medidas …?", "Which steps …?": a list of actions.
    + _WHICH_ACTIONS,
    re.IGNORECASE,
)


# The kinds of section broad questions ask for most, by the question's words and by
# the words section titles use for them, in Dutch, Spanish and English: "wat beveelt
# het rapport aan?" asks for the section titled "Aanbevelingen", "Recomendaciones" or
# "Recommendations", in whichever report has it.
_SECTION_KINDS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"aanbevel|beveelt|\braadt\b|\badvie|stelt .*\bvoor\b|recomiend|recomend|"
                r"aconseja|propone|plantea|recommend|advi[cs]e|propose|suggest", re.I),
     # Or a title that asks what is to be done ("¿Qué puede hacerse?").
     re.compile(r"aanbeveling|advies|recomendaci|recommendation|"
                r"wat (kan|moet|kunnen|moeten) er .*\b(gedaan|gebeuren)\b|"
                r"qu[eé] (se )?(puede|debe|podr[ií]a|deber[ií]a)(n)? hacer|"
                r"what (can|should|must|could) be done", re.I)),
    (re.compile(r"bevinding|conclusie|hallazgo|conclusiones|concluye|resultados|findings|"
                r"conclusions|conclude|main points|key points|takeaways|key messages|"
                r"main messages|hoofdpunten|kernpunten|kernboodschap|belangrijkste punten|"
                r"puntos principales|puntos clave|ideas principales|mensajes principales", re.I),
     re.compile(r"bevinding|conclusie|resultat|hallazgo|conclusi|resultado|finding|"
                r"result", re.I)),
    (re.compile(r"berekend|bepaald|gemeten|samengesteld|opgebouwd|\bmeet\b|\bmeten\b|"
                r"berekent|berekenen|bepaalt|bepalen|calcula|mide|determina|measure|compute|"
                r"construye|compone|elabora|metodolog|computed|calculated|measured|"
                r"determined|constructed|scored|method", re.I),
     re.compile(r"method|metod|aanpak|berekening|c[aá]lculo|indicator|indicador", re.I)),
    # Actions: "Welke stappen wil Amsterdam zetten?" asks for the "Stappenplan".
    (re.compile(_WHICH_ACTIONS, re.I),
     re.compile(r"maatregel|\bstap|stappenplan|actieplan|beleid|medida|acci[oó]n|acciones|"
                r"pol[ií]tica|measure|\bsteps?\b|action|polic", re.I)),
    (re.compile(r"samenvat|\bvat\b.*\bsamen|resum|summari[sz]|waarover gaat|"
                r"waar gaat|geef een overzicht|de qu[eé] trata|panorama de|"
                r"what is .* about|overview", re.I),
     re.compile(r"samenvatting|resumen|summary|overzicht|introduc|inleiding", re.I)),
]


def _kinds_matched(question: str, title: str) -> int:
    """How many of the kinds of section the question's words ask for the title is
    ("conclusions and recommendations" asks for two). "Summarise the recommendations"
    asks for the recommendations: the summary kind counts only when the question
    names no other kind."""
    asked = [names for asks, names in _SECTION_KINDS if asks.search(question)]
    if len(asked) > 1:
        asked = asked[:-1] if asked[-1] is _SECTION_KINDS[-1][1] else asked
    return sum(bool(names.search(title)) for names in asked)


def _kind_match(question: str, title: str) -> bool:
    return _kinds_matched(question, title) > 0


# "Which risks does the report name?", "Welke maatregelen stelt het rapport voor?", "¿Qué
# desafíos identifica el informe?": a question word, what is asked about, and a verb of
# what a text does with it. The verb and the question word are the question's frame;
# the words between are its topic.
_WHICH = re.compile(r"^[\s¿¡\"“'(]*(welke|wat voor|wat|which|what|qu[eé]|cu[aá]les|cu[aá]l)\b",
                    re.IGNORECASE)
_TEXT_VERB = re.compile(
    r"\b(noemt|noemen|ziet|signaleert|beschrijft|bespreekt|benoemt|onderscheidt|"
    r"concludeert|schetst|stelt|"
    r"mention(s|ed)?|identif(y|ies|ied)|discuss(es|ed)?|name[sd]?|list(s|ed)?|"
    r"highlight(s|ed)?|describe[sd]?|outline[sd]?|point(s)? out|"
    r"mencionan?|identifican?|se[nñ]alan?|describen?|destacan?|analizan?|discuten?|"
    r"proponen?|plantean?)\b",
    re.IGNORECASE,
)
# A verb to explain something at length: "Explain the tiers", "Leg de groepen uit".
_EXPLAIN = re.compile(r"^[\s¿¡]*(explain|expli(?:ca|que)|leg)\b(?:.*\b(uit)\b)?", re.IGNORECASE)


# "Which professor does the report describe as the authority on …?": a verb of what a
# text does, with "as", asks who or what it is said of, one fact.
_AS_PREDICATE = re.compile(
    r"\b(describ\w*|beschrij\w*|noem\w*|name[sd]?|call(?:s|ed)?|descri\w*|llam\w*|"
    r"calific\w*)\b[^?]*\b(as|als|como)\b",
    re.IGNORECASE,
)


def _frame(question: str) -> list[tuple[int, int]]:
    """The spans of a broad question's question words, or none when it is not broad."""
    if _AS_PREDICATE.search(question):
        return []
    spans = [m.span() for m in _BROAD.finditer(question)]
    if spans:
        return spans
    explain = _EXPLAIN.match(question)
    if explain and (explain.group(1).lower() != "leg" or explain.group(2)):
        return [explain.span(g) for g in (1, 2) if explain.group(g)]
    which = _WHICH.match(question)
    verb = _TEXT_VERB.search(question, which.end()) if which else None
    if which and verb:
        return [which.span(1), verb.span()]
    return []


def is_broad(question: str) -> bool:
    return bool(_frame(question))


def topic(question: str) -> str:
    """A broad question without its question words (whole words): what it asks
    about ("Wat zegt het rapport over X?" → "het rapport over X?")."""
    out = question
    for start, end in reversed(_frame(question)):
        while start > 0 and out[start - 1].isalnum():
            start -= 1
        while end < len(out) and out[end].isalnum():
            end += 1
        out = out[:start] + " " + out[end:]
    return out


def titled(
    question: str, question_language: str, sections: Sequence[tuple[str, str]], links: Links,
    generic: set[str] | frozenset[str] = frozenset(),
) -> bool:
    """Whether one of the sections ((language, section path) pairs), or a section above
    it, has a title that names what a broad question asks about: at least half of the
    topic's terms, or their counterparts in the title's language. `generic` terms (the
    documents' subject, which most passages hold) name no topic, unless nothing else
    does."""
    asked = topic_terms(question, question_language, generic)
    if not asked:
        return False
    for lang, path in sections:
        parts = path.split(SECTION_SEPARATOR)
        # A title alone, or with its parent's ("Malaria > Prevention").
        for title in [*parts, *(f"{a} {b}" for a, b in zip(parts, parts[1:], strict=False))]:
            if title and _title_score(asked, title, lang, links, question_language) >= 0.5:
                return True
    return False


def topic_terms(
    question: str, question_language: str, generic: set[str] | frozenset[str] = frozenset(),
) -> set[str]:
    """The terms of what a broad question asks about, less the documents' subject."""
    return specific_terms(set(analyse(topic(question), question_language)), generic)


def specific_terms(terms: set[str], generic: set[str] | frozenset[str]) -> set[str]:
    """The terms less the generic ones; all of them when every one is generic ("what does
    it say about AI?" asked of reports on AI)."""
    return (terms - generic) or terms


def _is_title(heading: str, meta: dict[str, object]) -> bool:
    """Whether a heading is the title of the chunk's document (a Markdown "# Title")."""
    return fold(heading) == fold(" ".join(str(meta.get("title", "")).split()))


def _unit(meta: dict[str, object]) -> str:
    """The top-level section a chunk belongs to. A document whose one top heading is
    its title (a Markdown "# Title") has its sections one level down."""
    parts = str(meta.get("section_path", "")).split(SECTION_SEPARATOR)
    if len(parts) > 1 and _is_title(parts[0], meta):
        return SECTION_SEPARATOR.join(parts[:2])
    return parts[0]


def _within(meta: dict[str, object], unit: str) -> bool:
    path = str(meta.get("section_path", ""))
    return path == unit or path.startswith(unit + SECTION_SEPARATOR)


def _title_score(
    asked: set[str], title: str, language: str, links: Links, question_language: str
) -> float:
    """Share of the question's terms that the title holds (or their counterparts)."""
    if not asked:
        return 0.0
    have = set(analyse(re.sub(r"^[\d.\s]+", "", title), language))
    found = 0
    for term in asked:
        forms = counterparts(term, language, question_language, links)
        found += any(terms_match(f, h) for f in forms for h in have)
    return found / len(asked)


def counterparts(term: str, language: str, question_language: str, links: Links) -> set[str]:
    """A question's term and, in a text of another language, the word it links to there."""
    partner = links.get(term, {}).get(language) if language != question_language else None
    return {term, partner} if partner else {term}


def _titled_unit(
    meta: dict[str, object], asked: set[str], question: str, links: Links,
    question_language: str,
) -> tuple[str, float]:
    """The section a chunk answers from, and how well its title matches the question: the
    top-level section, or its subsection when the subsection's title, read with its
    parent's, names more of what is asked ("the explorers" and "4. Tiers > 4.3
    Explorers"; "prevention of malaria" and "Malaria > Prevention")."""
    top = _unit(meta)
    lang = str(meta.get("language", ""))
    parts = str(meta.get("section_path", "")).split(SECTION_SEPARATOR)
    depth = top.count(SECTION_SEPARATOR)  # 1 under a document-title heading
    unit = top
    title = _title_score(asked, parts[depth], lang, links, question_language) + (
        _kinds_matched(question, parts[depth])
    )
    if len(parts) > depth + 1:
        sub = _title_score(asked, f"{parts[depth]} {parts[depth + 1]}", lang, links,
                           question_language) + max(
            _kinds_matched(question, parts[depth]),
            _kinds_matched(question, parts[depth + 1]))
        if sub > title:
            unit, title = SECTION_SEPARATOR.join(parts[: depth + 2]), sub
    return unit, title


def section_answer(
    answerer: ExtractiveAnswerer,
    question: str,
    language: str,
    question_language: str,
    query_vector: Sequence[float],
    hits: Sequence[SearchHit],
    links: Links,
    generic: set[str] | frozenset[str] = frozenset(),
) -> CitedAnswer | None:
    """The points of the section a broad question concerns, or None when no
    section's title matches the question (the caller then quotes sentences)."""
    assert answerer.section_chunks is not None
    asked = specific_terms(set(analyse(question, question_language)), generic)
    # Score each (document, top-level section) by the retrieved passages it holds and
    # by how well its title, or a subsection's, matches the question.
    scores: dict[tuple[str, str], float] = {}
    first_hit: dict[tuple[str, str], SearchHit] = {}
    titles: dict[tuple[str, str], float] = {}
    # Units that are a whole document: the text under its title heading, before any section.
    whole: set[tuple[str, str]] = set()
    named: dict[str, float] = {}  # how well each document's title matches the question
    found_docs = list(dict.fromkeys(str(h.metadata.get("doc_id", "")) for h in hits))
    # The retrieved passages count by their rank; the other sections of the documents
    # they come from count by their title alone (retrieval may rank the passages of the
    # section a broad question names below others that share its words).
    others = [c for d in found_docs if d for c in answerer.section_chunks(d)]
    for rank, hit in [*enumerate(hits), *((None, c) for c in others)]:
        meta = hit.metadata
        doc_id = str(meta.get("doc_id", ""))
        path = str(meta.get("section_path", ""))
        if not doc_id or not path:
            continue
        unit, title = _titled_unit(meta, asked, question, links, question_language)
        key = (doc_id, unit)
        if rank is None and key not in scores and title <= 0:
            continue
        titles[key] = max(titles.get(key, 0.0), title)
        if doc_id not in named:
            named[doc_id] = _title_score(asked, str(meta.get("title", "")),
                                         str(meta.get("language", "")), links, question_language)
        if unit == path and _is_title(path, meta):
            whole.add(key)
        scores[key] = scores.get(key, 0.0) + (1.0 / (rank + 1) if rank is not None else 0.0)
        first_hit.setdefault(key, hit)
    matched = {k: s + titles[k] for k, s in scores.items() if titles[k] > 0}
    # A document's title names the document, not one of its sections: where a section
    # of it is titled with what is asked too ("the summary of the Sea Level Monitor" and
    # "Sea Level Monitor: summary and introduction > Summary"), that section answers.
    # A question that names a document by its title ("the summary of the Harbour Monitor")
    # asks about that document: a section of another whose title holds far less of the
    # question does not answer it, whatever kind of section it is.
    best_named = max(named.values(), default=0.0)
    if best_named > 0:
        matched = {k: v for k, v in matched.items() if named[k[0]] >= 0.5 * best_named}
    for key in whole & matched.keys():
        if any(k[0] == key[0] and k not in whole for k in matched):
            del matched[key]
    if not matched:
        # No title names what is asked ("how is the score computed?" and a section
        # called "Method"): the section that holds the two best passages, if one does.
        top = [(str(h.metadata.get("doc_id", "")), _unit(h.metadata))
               for h in hits[:2]]
        if len(top) < 2 or top[0] != top[1] or top[0] not in scores:
            return None
        matched = {top[0]: scores[top[0]]}
    best = max(matched.values())
    # The question's language first, when its document has the section among the best.
    ranked = sorted(
        matched,
        key=lambda k: (
            matched[k] < 0.5 * best
            or first_hit[k].metadata.get("language") != language,
            -matched[k],
        ),
    )
    doc_id, unit = ranked[0]
    chunks = sorted(
        (c for c in answerer.section_chunks(doc_id) if _within(c.metadata, unit)),
        key=lambda c: int(c.metadata.get("chunk_index", 0)),
    )
    if not chunks:
        return None
    if first_hit[(doc_id, unit)].metadata.get("language") != language:
        # A document in the question's language among those found may have the same
        # kind of section although retrieval ranked another language's copy higher.
        own = _same_kind_in(answerer, question, unit, language, hits)
        if own is not None:
            doc_id, unit, chunks = own
            first_hit[(doc_id, unit)] = chunks[0]
            ranked.insert(0, (doc_id, unit))
            matched[(doc_id, unit)] = best
    points = _points(answerer, chunks, query_vector, unit)
    if not points:
        return None
    from assistant.extractive import also_cited, citation

    numbers: dict[str, int] = {}
    citations = []
    head = first_hit[(doc_id, unit)].metadata
    lines = [text(language, "section_points", section=unit.split(SECTION_SEPARATOR)[-1],
                  document=str(head.get("title", "")) or str(head.get("file_name", "")))]
    for chunk, point in points:
        if chunk.chunk_id not in numbers:
            numbers[chunk.chunk_id] = len(numbers) + 1
            citations.append(citation(numbers[chunk.chunk_id], chunk))
        lines.append(f"- {point} [{numbers[chunk.chunk_id]}]")
    source_lang = str(head.get("language", ""))
    if source_lang and source_lang != language:
        lines[0] += " " + text(language, "quoted_in",
                               language=language_name(language, source_lang))
    # The same section in the other documents, cited once rather than quoted again.
    others = []
    for key in ranked[1:]:
        if key[0] == doc_id or matched[key] < 0.5 * best:
            continue
        hit = first_hit[key]
        if hit.chunk_id not in numbers:
            numbers[hit.chunk_id] = len(numbers) + 1
            citations.append(citation(numbers[hit.chunk_id], hit))
        others.append((numbers[hit.chunk_id], hit))
    if others:
        lines.append(text(language, "also_in", sources=also_cited(language, others, source_lang)))
    return CitedAnswer("\n".join(lines), language, citations, found=True)


def _same_kind_in(
    answerer: ExtractiveAnswerer, question: str, unit: str, language: str,
    hits: Sequence[SearchHit],
) -> tuple[str, str, list[SearchHit]] | None:
    """The section of the kind `unit` is (by the question's section words) in a found
    document written in `language`, with its chunks in order."""
    assert answerer.section_chunks is not None
    if not _kind_match(question, unit.split(SECTION_SEPARATOR)[-1]):
        return None
    for doc_id in dict.fromkeys(
        str(h.metadata.get("doc_id", "")) for h in hits if h.metadata.get("language") == language
    ):
        chunks = answerer.section_chunks(doc_id)
        for title in dict.fromkeys(_unit(c.metadata) for c in chunks):
            if title and _kind_match(question, title.split(SECTION_SEPARATOR)[-1]):
                own = sorted(
                    (c for c in chunks if _unit(c.metadata) == title),
                    key=lambda c: int(c.metadata.get("chunk_index", 0)),
                )
                return doc_id, title, own
    return None


@dataclass(frozen=True)
class _Point:
    """One point of a section's answer: a sentence (or two) of a passage."""

    chunk: SearchHit
    at: int  # where it starts in the passage's text
    text: str

    @property
    def order(self) -> tuple[int, int]:
        return int(self.chunk.metadata.get("chunk_index", 0)), self.at


def _points(
    answerer: ExtractiveAnswerer, chunks: Sequence[SearchHit], query_vector: Sequence[float],
    unit_path: str,
) -> list[tuple[SearchHit, str]]:
    """What a section says, in document order: each subsection's title and lead
    sentence; else the leads of its paragraphs and list items, with its most central
    sentences when there are few; else those central sentences alone. A whole document
    gives its most central paragraph leads, whatever its subsections."""
    paragraphs = _paragraph_points(chunks)
    # A whole document (its title heading is the unit: the question asks about the
    # document, as about a news article) is not summed up by its subsections' leads. Its
    # subheadings are a reporter's catchwords ("Schande"), and the causes, measures or
    # threats asked about stand anywhere in its paragraphs: the paragraphs most central
    # to it and closest to the question answer.
    if paragraphs is not None and len(paragraphs) >= 2 and _is_title(
        unit_path, chunks[0].metadata
    ):
        said = [p for p in paragraphs if len(_WORD.findall(p.text)) >= MIN_LEAD_WORDS]
        kept = _fill([], _ranked(answerer, said, query_vector), MAX_POINTS)
        return [(p.chunk, p.text) for p in
                _fill(kept, _central(answerer, chunks, query_vector), MAX_POINTS)]
    leads: list[tuple[SearchHit, str]] = []
    seen_paths: set[str] = set()
    for chunk in chunks:
        path = str(chunk.metadata.get("section_path", ""))
        if path == unit_path or path in seen_paths or chunk.metadata.get("kind") == "table":
            continue
        seen_paths.add(path)
        sentences = [" ".join(chunk.text[a:b].split()) for a, b in sentence_spans(chunk.text)]
        title = path.split(SECTION_SEPARATOR)[-1]
        lead = sentences[0] if sentences else ""
        # A short lead ("Heat kills quietly.") announces; the next sentence says.
        if lead and len(lead) < SHORT_SENTENCE and len(sentences) > 1:
            lead = f"{lead} {sentences[1]}"
        leads.append((chunk, f"{title}: {_clip(lead)}" if lead else title))
    if len(leads) >= 2:
        if len(leads) * 2 > MAX_POINTS:
            return leads[:MAX_POINTS]
        # Few subsections: each lead, then what else the subsection says most.
        points: list[tuple[SearchHit, str]] = []
        per_subsection = MAX_POINTS // len(leads) - 1
        for chunk, lead in leads:
            path = str(chunk.metadata.get("section_path", ""))
            own = [c for c in chunks if str(c.metadata.get("section_path", "")) == path]
            first = [_Point(chunk, 0, lead)]
            if paragraphs is not None:
                mine = [p for p in paragraphs
                        if str(p.chunk.metadata.get("section_path", "")) == path]
                first = _fill(first, _ranked(answerer, mine, query_vector), 1 + per_subsection)
            more = _fill(first, _central(answerer, own, query_vector), 1 + per_subsection)
            points += [(p.chunk, p.text) for p in more]
        return points
    if paragraphs is not None and len(paragraphs) >= 2:
        kept = _fill([], _ranked(answerer, paragraphs, query_vector), MAX_POINTS)
        return [(p.chunk, p.text) for p in
                _fill(kept, _central(answerer, chunks, query_vector), MAX_POINTS)]
    items: list[tuple[SearchHit, str]] = []
    for chunk in chunks:
        for part in _BULLETS.split(chunk.text)[1:]:
            # An item ends with its first sentence: after it comes the paragraph
            # that follows the list, not the item.
            spans = sentence_spans(part)
            item = _clip(part[: spans[0][1]] if spans else part)
            # Overlapping chunks repeat items.
            if item and all(item != seen for _, seen in items):
                items.append((chunk, item))
    if len(items) >= 2:
        return items[:MAX_POINTS]
    return [(p.chunk, p.text) for p in _fill([], _central(answerer, chunks, query_vector),
                                             MAX_POINTS - 1)]


def _paragraph_points(chunks: Sequence[SearchHit]) -> list[_Point] | None:
    """The lead of each paragraph and list item of a section, in document order; None for
    passages indexed without paragraph starts. A short lead comes with the sentence after
    it, and so does a lead followed by the sentence that introduces a list."""
    points: list[_Point] = []
    for n, chunk in enumerate(chunks):
        if chunk.metadata.get("kind") == "table":
            continue
        raw = chunk.metadata.get("paragraphs")
        if raw is None:
            return None
        starts = sorted({int(x) for x in str(raw).split(",") if x.strip().isdigit()})
        if not starts:
            continue
        # A paragraph begun in the previous passage may end here with the sentence that
        # introduces a list: it goes with that paragraph's point.
        head = chunk.text[: starts[0]]
        head_spans = sentence_spans(head)
        if points and head_spans and head.rstrip().endswith(":"):
            intro = " ".join(head[head_spans[-1][0]:head_spans[-1][1]].split())
            # (Not a repeat of the previous passage's end: passages overlap.)
            if n and intro not in " ".join(chunks[n - 1].text.split()):
                last = points[-1]
                points[-1] = _Point(last.chunk, last.at, _with_intro(last.text, intro))
        for start, stop in zip(starts, [*starts[1:], len(chunk.text)], strict=True):
            paragraph = chunk.text[start:stop]
            spans = sentence_spans(paragraph)
            if not spans:
                continue
            point = paragraph[: spans[0][1]]
            if len(spans) > 1 and (
                len(point) < SHORT_SENTENCE or paragraph[: spans[1][1]].endswith(":")
            ):
                point = paragraph[: spans[1][1]]
            elif len(spans) > 2 and paragraph[: spans[-1][1]].rstrip().endswith(":"):
                # The sentence that introduces a list says what the list items are
                # ("The report tracks 56 indicators, grouped into five domains:"); the
                # sentences between are left out, and the gap is marked.
                point = _with_intro(paragraph[: spans[0][1]], paragraph[spans[-1][0]:spans[-1][1]])
            if _cut(chunk.text, start + len(point)) and n + 1 < len(chunks):
                point = _completed(point, chunks[n + 1].text)
            point = _BULLETS.sub("", point, count=1).lstrip("*–- ")
            if is_prose(point):
                points.append(_Point(chunk, start, _clip(point)))
    return points


_SAME_HEAD = 80  # characters
_SENTENCE_END = re.compile(r"[.!?:;…\"'”’»)\]]\s*$")


_OVERLAP_PROBE = 40  # characters


def _completed(piece: str, following: str) -> str:
    """A sentence cut off at a passage's end, completed from the next passage (which
    repeats the end of this one when passages overlap)."""
    probe = " ".join(piece.split())[-_OVERLAP_PROBE:]
    flat = " ".join(following.split())
    at = flat.find(probe)
    rest = flat[at + len(probe):] if at >= 0 else flat
    rest = _BULLETS.split(rest, maxsplit=1)[0]  # the next list item starts a point of its own
    spans = sentence_spans(rest)
    end = spans[0][1] if spans else len(rest)
    if at < 0 and rest[:1].isupper():
        return piece  # the next passage does not go on with this sentence
    return f"{' '.join(piece.split())}{'' if at >= 0 else ' '}{rest[:end]}"


def _cut(text: str, end: int) -> bool:
    """Whether the piece of `text` that stops at `end` is a sentence cut off by the
    passage's end: it ends the passage without a sentence's closing mark."""
    return not text[end:].strip() and not _SENTENCE_END.search(text[:end])


def _same(a: str, b: str) -> bool:
    """Whether one point holds the other, or the start of the other (overlapping
    passages repeat sentences, and a clipped point ends early)."""
    a, b = a.rstrip(" …"), b.rstrip(" …")
    return a in b or b in a or a[:_SAME_HEAD] in b or b[:_SAME_HEAD] in a


def _new_part(point: _Point, kept: Sequence[_Point]) -> _Point | None:
    """The point without its opening or closing sentences that a kept point already says
    (a lead taken with its next sentence overlaps the point that sentence leads); None
    when nothing is left."""
    text = point.text
    while True:
        spans = sentence_spans(text)
        if len(spans) < 2:
            break
        first = " ".join(text[: spans[0][1]].split())
        last = " ".join(text[spans[-1][0]:].split())
        if any(first in k.text for k in kept):
            text = text[spans[1][0]:]
        elif any(last in k.text for k in kept):
            text = text[: spans[-2][1]]
        else:
            break
    if text is not point.text and any(text.rstrip(" …") in k.text for k in kept):
        return None
    return point if text is point.text else _Point(point.chunk, point.at, text)


def _fill(points: Sequence[_Point], ranked: Sequence[_Point], count: int) -> list[_Point]:
    """`points`, then the best of `ranked` that say something new, up to `count` in all; in
    document order. Of two points where one holds the other, the longer stays."""
    kept = list(points)
    for point in ranked:
        if len(kept) >= count:
            break
        point = _new_part(point, kept)
        if point is None:
            continue
        same = [i for i, k in enumerate(kept) if _same(point.text, k.text)]
        if not same:
            kept.append(point)
        elif len(same) == 1 and same[0] >= len(points) and len(point.text) > len(
            kept[same[0]].text
        ):
            # Only a point added here is replaced; the given ones stay.
            kept[same[0]] = point
    return sorted(kept, key=lambda p: p.order) if count else []


def _ranked(
    answerer: ExtractiveAnswerer, points: Sequence[_Point], query_vector: Sequence[float]
) -> list[_Point]:
    """The points, the most central to the section and closest to the question first; a
    figure is what a point usually reports."""
    if len(points) < 2:
        return list(points)
    vectors = np.asarray(answerer.embedder.embed_documents([p.text for p in points]))
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    has_figure = np.asarray([bool(re.search(r"\d", p.text)) for p in points])
    score = vectors @ centre + vectors @ np.asarray(query_vector) + FIGURE_BONUS * has_figure
    return [points[int(i)] for i in np.argsort(-score)]


def _central(
    answerer: ExtractiveAnswerer, chunks: Sequence[SearchHit], query_vector: Sequence[float],
) -> list[_Point]:
    """The section's sentences, the key ones first. A short sentence ("The first finding
    is adoption.") comes with the one after it, which says what it announces."""
    from assistant.extractive import MAX_CANDIDATES

    seen: set[str] = set()
    candidates: list[_Point] = []
    for n, chunk in enumerate(chunks):
        if chunk.metadata.get("kind") == "table":
            continue
        spans = sentence_spans(chunk.text)
        for i, (a, b) in enumerate(spans):
            key = " ".join(chunk.text[a:b].split())
            # A piece that starts in lower case is the rest of a sentence cut at a
            # passage's edge, not a point; nor is the start of one that the next
            # passage holds whole.
            if len(key.split()) < 5 or key in seen or key[:1].islower() or (
                n + 1 < len(chunks) and _cut(chunk.text, b)
            ) or not is_prose(key):
                continue
            seen.add(key)
            if len(key) < SHORT_SENTENCE and i + 1 < len(spans):
                key = " ".join(chunk.text[a : spans[i + 1][1]].split())
            candidates.append(_Point(chunk, a, _clip(key)))
    return _ranked(answerer, candidates[:MAX_CANDIDATES], query_vector)


_WORD = re.compile(r"[^\W\d_]+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MIN_LOWER_SHARE = 0.25


def is_prose(text: str) -> bool:
    """Whether a piece reads as a sentence rather than a byline, a date line or a
    heading in title case ("Eva Belmonte & Miguel Ángel Gavilanes (Civio), 2017-02-09"):
    in a sentence, most words are not capitalised. A web address with a label ("Source:
    https://…") is a reference, not a point."""
    bare = _URL.sub(" ", text)
    words = _WORD.findall(bare)
    if bare != text and len(words) < 3:
        return False
    if len(words) < 3:
        return True
    return sum(w[0].islower() for w in words) >= MIN_LOWER_SHARE * len(words)


def _with_intro(lead: str, intro: str) -> str:
    """A paragraph's lead and the sentence at its end that introduces a list, with the gap
    between marked; the lead is shortened when both would be too long."""
    lead, intro = " ".join(lead.split()).rstrip(" …"), " ".join(intro.split())
    room = MAX_POINT_CHARS - len(intro) - 3
    if len(lead) > room:
        lead = lead[: max(0, room)].rsplit(" ", 1)[0]
    return f"{lead} … {intro}" if lead else intro


def _clip(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_POINT_CHARS:
        return sentence
    cut = sentence[:MAX_POINT_CHARS].rsplit(" ", 1)[0]
    return cut + " …"
