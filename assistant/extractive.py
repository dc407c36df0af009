"""The default answerer, with no language model: quote the sentences that answer.

It ranks the sentences of the retrieved passages by their similarity to the
question, keeps the best few, and cites each with its passage number. It says
"not found" instead of quoting when the passages are not about the question:
the best passage is below the relevance threshold, or a name or number the
question asks about occurs in none of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.answer import Citation, CitedAnswer
from assistant.messages import language_name, text
from assistant.store import SearchHit
from assistant.terms import TERMS, TOPIC_TERMS, canonical, fold, variants
from ingest.chunking import sentence_spans

# Question words that start with a capital only because they start a clause.
_LEADING = re.compile(r"^[\s¿¡\"“'(]*")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_](?:[\w-]*\w)?", re.U)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_YEAR = re.compile(r"(19|20)\d\d")
ANSWER_TYPE_BONUS = 0.05
GENERIC_SHARE = 0.8
MIN_TERM_COVERAGE = 0.7
TERM_BONUS = 0.05
HUB_PENALTY = 0.4
SELECTION_WINDOW = 0.06
MAX_PER_PASSAGE = 2


# What kind of answer a question wants, recognised from its question words,
# and how a sentence shows it has one. A sentence of the right kind is a
# likelier answer than one that only shares the topic.
_COUNTRY_NAMES = sorted(
    {fold(v) for key, vs in TERMS.items() for v in vs if key not in TOPIC_TERMS}, key=len
)
_ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "place": (
        re.compile(r"\b(welke landen|welk land|welke regio|waar|naar welke|"
                   r"qué países|qué país|cuáles países|dónde|hacia dónde|adónde|"
                   r"which countr|what countr|where)", re.I),
        re.compile(r"(?<!\w)(" + "|".join(re.escape(c) for c in _COUNTRY_NAMES) + r")(?!\w)"),
    ),
    "number": (
        re.compile(r"\b(hoeveel|hoe groot|welk deel|welke score|cuánt|qué puntuación|"
                   r"qué porcentaje|qué parte|how many|how much|what share|what score|"
                   r"what percentage|score)", re.I),
        re.compile(r"\d"),
    ),
    "date": (
        re.compile(r"\b(wanneer|welke datum|op welke datum|in welk jaar|cuándo|qué fecha|"
                   r"en qué año|when|what date|which year)", re.I),
        re.compile(r"\b(19|20)\d\d\b"),
    ),
}


def answer_types(question: str) -> list[str]:
    return [name for name, (asks, _) in _ANSWER_TYPES.items() if asks.search(question)]


def has_answer_type(folded_sentence: str, kind: str) -> bool:
    return bool(_ANSWER_TYPES[kind][1].search(folded_sentence))


@dataclass(frozen=True)
class _Candidate:
    hit: SearchHit
    rank: int
    sentence: str


def question_entities(question: str) -> list[tuple[str, ...]]:
    """Names and numbers in the question, each as the spellings that would match it.

    Known names (countries, ILIA terms) match in any language. Unknown
    capitalised words and numbers must match as written (accents aside).
    """
    folded = fold(question)
    entities: list[tuple[str, ...]] = []
    covered = folded
    known = sorted(
        {fold(v) for vs in TERMS.values() for v in vs}, key=len, reverse=True
    )
    for variant in known:
        pattern = rf"(?<!\w){re.escape(variant)}(?!\w)"
        if re.search(pattern, covered):
            # The AI acronym and tier names are topic words, not entities to check.
            if canonical(variant) not in {"ai", "ilia", "latin america", "caribbean"}:
                entities.append(variants(variant))
            covered = re.sub(pattern, " ", covered)
    body = _LEADING.sub("", question)
    tokens = _TOKEN.findall(body)
    for i, token in enumerate(tokens):
        if _NUMBER.fullmatch(token):
            entities.append((_number_key(token),))
        elif i > 0 and token[0].isupper() and len(token) > 2:
            key = fold(token)
            if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", covered):
                entities.append((key,))
    return entities


_TOPIC_TOKENS = {"~ai", "~ilia", "~latin_america", "~caribbean"}


def analysed_terms(question: str, hits: Sequence[SearchHit]) -> tuple[set[str], list[set[str]]]:
    """The question's lexical terms (less the topic words) and each passage's terms.

    Analysed once per answer: both the "not found" gate and the sentence
    scoring use them.
    """
    from assistant.language import detect_language
    from assistant.lexical import analyse

    wanted = set(analyse(question, detect_language(question))) - _TOPIC_TOKENS
    passages = [set(analyse(h.text, str(h.metadata.get("language", "en")))) for h in hits]
    return wanted, passages


def term_coverage(wanted: set[str], passages: Sequence[set[str]]) -> float:
    """The largest share of the question's terms that one passage holds.

    Terms are analysed as for lexical search, so names and domain words count
    across languages; the topic words every passage shares do not count.
    """
    if not wanted:
        return 1.0
    return max((len(wanted & have) / len(wanted) for have in passages), default=0.0)


def _distinctive_terms(wanted: set[str], passages: Sequence[set[str]]) -> set[str]:
    """The question's terms, less those most passages share (the topic)."""
    return {t for t in wanted if sum(t in p for p in passages) < GENERIC_SHARE * len(passages)}


def _share(terms: set[str], sentence: str, hit: SearchHit) -> float:
    """Share of `terms` the sentence holds, read in its passage's language."""
    from assistant.lexical import analyse

    if not terms:
        return 0.0
    have = set(analyse(sentence, str(hit.metadata.get("language", "en"))))
    return len(terms & have) / len(terms)


def _number_key(token: str) -> str:
    return token.replace(",", ".")


def _mentions(passage_folded: str, spellings: Sequence[str]) -> bool:
    for spelling in spellings:
        if _NUMBER.fullmatch(spelling):
            haystack = re.sub(r"(?<=\d),(?=\d)", ".", passage_folded)
        else:
            haystack = passage_folded
        if re.search(rf"(?<![\w.]){re.escape(spelling)}(?![\w])", haystack):
            return True
    return False


def _sentences(hit: SearchHit) -> list[str]:
    if hit.metadata.get("kind") == "table":
        return _table_rows(hit.text)
    return [hit.text[s:e] for s, e in sentence_spans(hit.text)]


def _table_rows(table: str) -> list[str]:
    """Each data row with its column names, so a quoted row can be read alone."""
    lines = [ln.strip() for ln in table.split("\n") if ln.strip()]
    if lines and re.match(r"^(table|tabla|tabel|tabela|cuadro)\s+\d", lines[0], re.I):
        lines = lines[1:]
    if len(lines) < 2:
        return lines
    header, rows = lines[0], [ln for ln in lines[1:] if not set(ln) <= set("|-: ")]
    return [f"{header} → {row}" for row in rows]


class ExtractiveAnswerer:
    def __init__(
        self,
        embedder: Embeddings,
        min_relevance: float,
        max_sentences: int,
        min_sentence_relevance: float = 0.0,
    ) -> None:
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.min_sentence_relevance = min_sentence_relevance
        self.max_sentences = max_sentences

    def answer(
        self, question: str, language: str, query_vector: Sequence[float],
        hits: Sequence[SearchHit],
    ) -> CitedAnswer:
        if not hits or max(h.score for h in hits) < self.min_relevance:
            return not_found(language)
        entities = question_entities(question)
        passages = [fold(h.text) for h in hits]
        if any(not any(_mentions(p, e) for p in passages) for e in entities):
            return not_found(language)
        # The names and numbers a question combines ("Paraguay" and "2024") must
        # meet in one passage; a name most passages carry is the topic, not a
        # constraint, and is left out of that test.
        specific = [
            e for e in entities
            if sum(_mentions(p, e) for p in passages) < GENERIC_SHARE * len(passages)
        ]
        if len(specific) > 1 and not any(all(_mentions(p, e) for e in specific) for p in passages):
            return not_found(language)

        seen: set[str] = set()
        candidates = []
        for rank, hit in enumerate(hits):
            for sentence in _sentences(hit):
                key = " ".join(fold(sentence).split())
                # Overlapping chunks repeat their edge sentences; quote each once.
                if len(sentence.split()) >= 3 and key not in seen:
                    seen.add(key)
                    candidates.append(_Candidate(hit, rank, sentence))
        if not candidates:
            return not_found(language)
        vectors = np.asarray(self.embedder.embed_documents([c.sentence for c in candidates]))
        similarity = vectors @ np.asarray(query_vector)
        # A passage can be on topic while none of its sentences answers: then
        # no sentence comes close to the question, and the passages do not
        # carry most of the question's words either.
        wanted_terms, passage_terms = analysed_terms(question, hits)
        if (
            float(similarity.max()) < self.min_sentence_relevance
            and term_coverage(wanted_terms, passage_terms) < MIN_TERM_COVERAGE
        ):
            return not_found(language)
        # Generic sentences (an introduction naming the index and the year) sit
        # close to every question. Their closeness to the centre of all
        # candidates measures that, and is discounted.
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        similarity = similarity - HUB_PENALTY * (vectors @ centre)
        top_hit = max(h.relevance for h in hits)
        wanted = answer_types(question)
        folded_candidates = [fold(c.sentence) for c in candidates]
        # Only specific names earn a bonus: one most passages share tells
        # sentences apart no more than a stop word does. Nor do years: "in
        # 2025" places a question in time, and every introduction names the
        # year of the report.
        telling = [e for e in specific if not _YEAR.fullmatch(e[0])]
        asked = _distinctive_terms(wanted_terms, passage_terms)
        scores = []
        for cand, folded, sim in zip(candidates, folded_candidates, similarity, strict=True):
            named = sum(_mentions(folded, e) for e in telling) / max(1, len(telling))
            shared = _share(asked, cand.sentence, cand.hit)
            typed = any(has_answer_type(folded, kind) for kind in wanted)
            # The passage's language baseline applies to its sentences too, and the
            # passage's rank carries the context the lone sentence lacks.
            language_offset = cand.hit.relevance - cand.hit.score
            scores.append(
                float(sim) + language_offset + 1.0 * (cand.hit.relevance - top_hit)
                + 0.08 * named + ANSWER_TYPE_BONUS * typed + TERM_BONUS * shared
            )
        order = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)
        best = scores[order[0]]
        chosen: list[int] = []
        per_passage: dict[str, int] = {}
        for i in order:
            if scores[i] < best - SELECTION_WINDOW or len(chosen) == self.max_sentences:
                break
            chunk_id = candidates[i].hit.chunk_id
            # Spread the quotes over passages: a second relevant passage is
            # worth more than a third sentence of the same one.
            if per_passage.get(chunk_id, 0) < MAX_PER_PASSAGE:
                per_passage[chunk_id] = per_passage.get(chunk_id, 0) + 1
                chosen.append(i)
        return self._compose(language, [candidates[i] for i in chosen])

    def _compose(self, language: str, chosen: Sequence[_Candidate]) -> CitedAnswer:
        numbers: dict[str, int] = {}
        citations: list[Citation] = []
        lines = [text(language, "according_to")]
        for cand in chosen:
            hit = cand.hit
            if hit.chunk_id not in numbers:
                numbers[hit.chunk_id] = len(numbers) + 1
                citations.append(citation(numbers[hit.chunk_id], hit))
            n = numbers[hit.chunk_id]
            line = f"- {cand.sentence.strip()} [{n}]"
            source_lang = str(hit.metadata.get("language", ""))
            if source_lang and source_lang != language:
                line += " " + text(language, "quoted_in",
                                   language=language_name(language, source_lang))
            lines.append(line)
        return CitedAnswer("\n".join(lines), language, citations, found=True)


def citation(n: int, hit: SearchHit) -> Citation:
    meta = hit.metadata
    return Citation(
        n=n,
        document=str(meta.get("title", "")),
        file=str(meta.get("file_name", "")),
        page=int(meta.get("page", 0)),
        section=str(meta.get("section", "")),
        text=hit.text,
        doc_id=str(meta.get("doc_id", "")),
        language=str(meta.get("language", "")),
        score=hit.score,
    )


def not_found(language: str) -> CitedAnswer:
    return CitedAnswer(text(language, "not_found"), language, [], found=False)
