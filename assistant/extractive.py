"""The default answerer, with no language model: quote the sentences that answer.

It ranks the sentences of the retrieved passages by their similarity to the
question, keeps the best few, and cites each with its passage number. It says
"not found" instead of quoting when the passages are not about the question:
the best passage is below the relevance threshold, or a name or number the
question asks about occurs in none of them.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.answer import Citation, CitedAnswer
from assistant.bridge import content_words
from assistant.lexical import SUBJECT_SHARE
from assistant.messages import language_list, language_name, text
from assistant.names import Name, derived_name, derived_stems, find_names, mentions_place, spellings
from assistant.store import SearchHit
from assistant.textnorm import fold, number_key
from ingest.chunking import SECTION_SEPARATOR, sentence_spans

if TYPE_CHECKING:
    from assistant.bridge import TermBridge

# Question words that start with a capital only because they start a clause.
_LEADING = re.compile(r"^[\s¿¡\"“'(]*")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_](?:[\w-]*\w)?", re.U)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_YEAR = re.compile(r"(19|20)\d\d")
ANSWER_TYPE_BONUS = 0.05
# A capitalised word this long may be an inflected form of a name: its stem matches too.
LONG_NAME = 7
GENERIC_SHARE = 0.8
# The passages of sections titled with an asked word that may add sentences of the
# asked kind (a place, a year) to a question's candidates.
MAX_TITLED_PASSAGES = 4
MIN_TERM_COVERAGE = 0.7
TERM_BONUS = 0.05
# The least share of chunks a term is weighed by: bounds a rare word's weight.
MIN_SHARE = 0.01
HUB_PENALTY = 0.4
# Facts scored within this of the best one are quoted too (at most `answer_sentences`).
# Chosen on the dev questions of both sample corpora: 0.06 / 0.10 / 0.15 with 4 or 6
# sentences gave key-fact recall 0.71 / 0.72 / 0.72 (ILIA) and 0.84 / 0.91 / 0.91
# (heat-health); 0.10 is the narrowest of the best.
SELECTION_WINDOW = 0.1
# A broad question with no one section about it: more facts, from a wider window.
BROAD_EXTRA = 2
BROAD_WINDOW = 0.1
MAX_PER_PASSAGE = 2
# Bounds on the work one question costs, whatever the passages hold: the sentences
# embedded, and the characters of each that are read.
MAX_CANDIDATES = 120
MAX_SENTENCE_CHARS = 600
# What a sentence ending in a colon brings from the next passage.
MAX_LIST_CHARS = 400
# Two sentences this close (cosine of their vectors) say the same thing, whatever
# their languages; with the same figures, less closeness is enough. The answer
# quotes one and cites the other with it.
SAME_FACT = 0.9
SAME_FIGURES = 0.85
# Short lowercase words that may stand inside a title ("de", "of", "van"), at most this
# many in a row; "and" and "or" join names instead. Dutch "en" (and) is one; Spanish
# "en" (in) then splits a title in two runs, which still reads as a title. Dutch "of"
# (or) is not: English titles are full of "of".
MAX_TITLE_LINKS = 2
# A heading of this many words or more that reads as a statement with a figure is a
# headline, quoted like a sentence.
HEADLINE_WORDS = 6
_SECTION_NUMBER = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|\d{1,2})\s+|^[IVXLC]+[.)]\s+")
_CONJUNCTIONS = frozenset({"and", "or", "en", "y", "e", "o", "u"})
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
SAME_WORDS = 0.5  # share of words two wordings of one fact in one language have in common


# What kind of answer a question wants, recognised from its question words,
# and how a sentence shows it has one. A sentence of the right kind is a
# likelier answer than one that only shares the topic. The question words are
# the languages' own; places are recognised by their CLDR names.
_ANSWER_TYPES: dict[str, re.Pattern[str]] = {
    "place": re.compile(r"\b(welke landen|welk land|welke regio|naar welke|"
                        r"qué países|qué país|cuáles países|dónde|hacia dónde|adónde|"
                        r"which countr|what countr)", re.I),
    "number": re.compile(r"\b(hoeveel|hoe groot|hoe hoog|welk deel|welk percentage|welke score|"
                         r"aantal|cuánt|qué puntuación|qué porcentaje|qué parte|qué proporción|"
                         r"número de|cantidad de|how many|how much|how large|how high|"
                         r"what share|what proportion|what score|what percentage|number of|"
                         r"score)", re.I),
    "date": re.compile(r"\b(welke datum|welk jaar|cuándo|qué fecha|qué año|what date|"
                       r"which year|what year)", re.I),
    "reason": re.compile(r"\b(waarom|hoe komt het|wat is de reden|wat is de oorzaak|"
                         r"por qué|por que|cuál es la razón|cuál es la causa|a qué se debe|"
                         r"why|what is the reason|what caused|how come)\b", re.I),
}
# "When" and "where" (and "wanneer", "waar") also join clauses ("… when designing the
# lock"): they ask for a time or place only where the question starts with them; so
# does "who" ("the people who …") for a person or body.
_LEADING_TYPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(r"^\W*(?:(?:door|met|van|voor|aan|a|de|por|con|para|by|to|for|with)"
                         r"\s+)?(wie|qui[eé]n(?:es)?|who|whom)\b", re.I),
    "place": re.compile(r"^\W*(?:(?:from|to|naar|vanaf|tot)\s+)?(where|waar)\b", re.I),
    "date": re.compile(r"^\W*(?:(?:since|until|from|sinds|tot|vanaf)\s+)?(when|wanneer)\b",
                       re.I),
}
_SHOWS_TYPE = {
    "number": re.compile(r"\d"),
    "date": re.compile(r"\b(19|20)\d\d\b"),
    # The connectives and nouns with which Dutch, Spanish and English give a reason
    # (matched on folded text: accents removed).
    "reason": re.compile(r"\b(omdat|doordat|want|namelijk|vanwege|wegens|dankzij|daardoor|"
                         r"reden|oorzaak|veroorzaakt|porque|debido a|se deben? a|ya que|puesto que|"
                         r"a causa de|gracias a|por eso|razon|causa|causado|because|due to|"
                         r"owing to|as a result|thanks to|caused|reason|therefore)\b"),
}


# Words that make a question for a figure one for an amount of money ("Hoeveel geld
# …?", "¿Cuánto costó …?", "How much did … cost?"), besides the currencies' own names.
_MONEY_WORDS = frozenset("""
    geld kost kosten kostte kostten bedrag bedragen begroot begroting budget verdient
    verdienen verdiende salaris loon subsidie uitgegeven
    dinero cuesta cuestan costo costó coste costaron monto importe presupuesto
    presupuestado gasto gastó salario sueldo subvención
    money cost costs budget budgeted spend spent salary earn earns paid subsidy
""".split())


def answer_types(question: str) -> list[str]:
    found = [name for name in {**_ANSWER_TYPES, **_LEADING_TYPES}
             if name in _ANSWER_TYPES and _ANSWER_TYPES[name].search(question)
             or name in _LEADING_TYPES and _LEADING_TYPES[name].search(question)]
    if "number" in found and any(
        w in _MONEY_WORDS or fold(w) in _currency_words()
        for w in re.findall(r"[^\W\d_]+", question.lower())
    ):
        found.append("money")
    return found


@functools.cache
def _currency_words() -> frozenset[str]:
    """The nouns of the current currencies' names in the three languages (CLDR, via
    Babel): "dólares", "euro", "pesos", "pounds". A currency's noun is the word its
    name shares with another currency's ("Amerikaanse dollar", "Canadese dollar") or
    its whole name ("euro"); what names a country or people ("Zuid-Afrikaanse",
    "Sudanese", "New") is left out."""
    import datetime

    from babel import Locale
    from babel.core import get_global
    from babel.numbers import get_currency_name, get_territory_currencies

    today = datetime.date.today()
    codes = {code for territory in get_global("territory_currencies")
             for code in get_territory_currencies(territory, today, tender=True)}
    place_words = {
        fold(w) for language in ("nl", "es", "en")
        for name in Locale(language).territories.values()
        for w in re.findall(r"[^\W\d_]{3,}", name)
    }
    nouns: set[str] = set()
    for language in ("nl", "es", "en"):
        seen: dict[str, int] = {}
        whole: set[str] = set()
        for code in codes:
            words: set[str] = set()
            for count in (1, 2):
                name = get_currency_name(code, count=count, locale=language)
                found = [fold(w) for w in re.findall(r"[^\W\d_]+", name)]
                words.update(w for w in found if len(w) >= 4)
                if len(found) == 1:
                    whole.update(found)
            for w in words:
                seen[w] = seen.get(w, 0) + 1
        shared = {w for w, n in seen.items() if n >= 2}
        nouns |= whole | {
            w for w in shared
            if w not in place_words and not any(
                len(p) >= 4 and w.startswith(p[:-1]) for p in place_words)
        }
    return frozenset(w for w in nouns if derived_name(w) is None and not find_names(w))


# Unicode's currency symbols ($, €, £, ¥, ₹ …) by a figure, either side.
_SIGNS = "".join(chr(c) for c in range(0x20, 0x10000) if unicodedata.category(chr(c)) == "Sc")
_CURRENCY_SIGN = re.compile(rf"[{re.escape(_SIGNS)}]\s*\d|\d\s*[{re.escape(_SIGNS)}]")


def _states_money(folded_sentence: str) -> bool:
    """Whether a sentence (folded) gives an amount of money: a currency sign by a figure
    ("$1.5 billion", "€ 300"), or a figure followed within a few words by a currency's
    name ("25 millones de dólares", "3 miljard euro")."""
    if _CURRENCY_SIGN.search(folded_sentence):
        return True
    for m in re.finditer(r"\d[\d.,]*((?:\s+[^\W\d_]+){1,4})", folded_sentence):
        if any(w in _currency_words() for w in m.group(1).split()):
            return True
    return False


def names_someone(sentence: str) -> bool:
    """Whether a sentence (as written) names a person or body: a capitalised word inside
    it ("voorzitter Wallage", "the MSC"), not one that starts a sentence or quotation,
    and not a country or language (CLDR)."""
    for m in _TOKEN.finditer(sentence):
        word = m.group()
        before = sentence[:m.start()].rstrip()
        if (m.start() == 0 or not word[0].isupper() or len(word) < 3 or not before
                or before[-1] in ".!?:;\"“”„«‘'(" or find_names(fold(word))):
            continue
        return True
    return False


def has_answer_type(folded_sentence: str, kind: str, language: str = "") -> bool:
    """Whether a sentence (folded, in `language`) holds the kind of answer asked for: a
    place, a year, or a number in figures or in words ("six times lower")."""
    if kind == "place":
        return mentions_place(folded_sentence)
    if kind == "money":
        return _states_money(folded_sentence)
    if _SHOWS_TYPE[kind].search(folded_sentence):
        return True
    return kind == "number" and bool(_number_words(language).search(folded_sentence))


@functools.cache
def _number_words(language: str) -> re.Pattern[str]:
    """The words for 2-20 and the tens in a language, from num2words ("one" is left out:
    it is also an article, "een", "un")."""
    from num2words import num2words

    try:
        words = {fold(num2words(n, lang=language)) for n in [*range(2, 21), *range(30, 101, 10)]}
    except NotImplementedError:
        words = set()
    if not words:
        return re.compile(r"(?!)")
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)")


@dataclass(frozen=True)
class _Candidate:
    hit: SearchHit
    rank: int
    sentence: str


@dataclass
class Evidence:
    """What the retrieved passages offer for one question: the measures the "not
    found" gates judge, and the candidate sentences an answer is made of."""

    question: str
    language: str  # of the answer
    question_language: str
    query_vector: Sequence[float]
    hits: list[SearchHit]
    links: dict[str, dict[str, str]]
    top_score: float  # the best passage's cosine similarity
    sentence_similarity: float  # the best sentence's
    coverage: float  # the largest share of the question's terms one passage holds
    # One sentence holds every name the question gives and the kind of answer it asks
    # for (a figure, a year, a place).
    typed_named: bool
    broad: bool  # "what does it say about X?", "what are the main findings?"
    # A broad question's topic named by the title of a retrieved passage's section
    # ("what does it say about infrastructure?" and "8.3 Research and infrastructure").
    titled: bool
    # A broad question whose topic's words (or their counterparts) one retrieved passage
    # holds all of ("what does it say about Mexico?"): such a short question sits far
    # from every passage, so its similarity says little.
    topic_held: bool
    candidates: list[_Candidate]
    vectors: np.ndarray
    similarity: np.ndarray
    asked: set[str]
    # The question's terms that most passages hold: the documents' subject, not the topic.
    generic: set[str]
    telling: list[tuple[str, ...]]
    # The names and years the question combines that few passages hold.
    specific: list[tuple[str, ...]]


def question_entities(question: str) -> list[tuple[str, ...]]:
    """Names and numbers in the question, each as the spellings that would match it.

    Country names (CLDR) match in any of the three languages. Other capitalised
    words and numbers must match as written (accents aside). Wider regions
    ("Southeast Asia") place a question rather than constrain it, and are left out.
    """
    found, covered = _names_and_rest(question)
    entities: list[tuple[str, ...]] = [
        spellings(name.key) for _, name in found if not name.region
    ]
    body = _LEADING.sub("", question)
    matches = list(_TOKEN.finditer(body))
    tokens = [m.group() for m in matches]
    for i, token in enumerate(tokens):
        if _NUMBER.fullmatch(token):
            entities.append((number_key(token),))
        elif i > 0 and token[0].isupper() and len(token) > 2 and not _in_title(matches, body, i):
            # Not names: a compound led by an acronym ("AI-strategie") is a common
            # noun, and a short acronym is often translated (GDP, PIB, bbp).
            if "-" in token and token.rsplit("-", 1)[1][:1].islower():
                continue
            if token.isupper() and len(token) <= 3:
                continue
            key = fold(token)
            # An adjective of a country, region or language ("Duitse ziekenhuizen",
            # "Afrikaanse steden") is found by the stems of that name in any language
            # ("duits*", "aleman*", "german*"): a passage says "Duitsland" or "German".
            derived = derived_name(key)
            if derived is not None:
                # The adjective of a language ("de Spaanse strategie") may name the
                # language a document is written in: "@es" says which.
                written = ([f"@{derived.key.split(':', 1)[1]}"]
                           if derived.key.startswith("language:") else [])
                entities.append((*(f"{s}*" for s in derived_stems(derived)), *written))
                continue
            if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", covered):
                # A longer capitalised word may be an inflected adjective ("Europees" and
                # "Europese Unie", "European"): its stem, less the ending, also matches.
                entities.append((key, f"{key[:-2]}*") if (
                    len(key) >= LONG_NAME and key.isalpha() and not token.isupper()
                ) else (key,))
    return entities


# The words that introduce who says what the question asks about: "according to
# the Economist", "volgens de PO-Raad", "según el informe de Fundar", "cited by TriTAG".
_ATTRIBUTION = re.compile(
    r"(?<!\w)(?:according\s+to|cited\s+by|quoted\s+by|volgens|geciteerd\s+door|"
    r"según|citad[oa]s?\s+por|de\s+acuerdo\s+con)(?!\w)"
    r"(?P<rest>(?:\W+\w+){1,6})",
    re.IGNORECASE,
)


def _attributed(question: str, entity: tuple[str, ...]) -> bool:
    """Whether the question gives `entity` as its source: a name among the few words
    after "according to", "volgens", "según" or "citado por"."""
    return any(_mentions(fold(m.group("rest")), entity)
               for m in _ATTRIBUTION.finditer(question))


def _acronym(question: str, entity: tuple[str, ...]) -> str:
    """The acronym (all capitals, "ITDP") that the question writes for `entity`, or ""."""
    if len(entity) != 1:
        return ""
    for token in _TOKEN.findall(question):
        if token.isupper() and token.isalpha() and fold(token) == entity[0]:
            return token
    return ""


def _spelled_out(acronym: str, texts: Sequence[str]) -> list[str]:
    """The folded names in `texts` whose capitalised words' initials spell `acronym`
    ("Institute for Transportation & Development Policy" for ITDP): a question names
    an organisation by its acronym where a passage writes it in full. Short words
    between the capitalised ones ("for", "de", "&") are part of the name."""
    letters = acronym.upper()
    word = r"[^\W\d_][\w'’-]*"
    link = r"(?:\s+(?:[^\W\d_]{1,3}|&))?\s+"
    run = rf"(?<![\w-]){word}(?:{link}{word}){{{len(letters) - 1},{len(letters) + 2}}}"
    found = []
    for passage in texts:
        for start in re.finditer(rf"(?<![\w-]){letters[0]}", passage):
            m = re.match(run, passage[start.start():])
            if m is None:
                continue
            capitals = [w for w in re.findall(word, m.group()) if w[0].isupper()]
            if "".join(w[0] for w in capitals[: len(letters)]) == letters:
                # The name ends at its last capitalised word.
                last = capitals[len(letters) - 1]
                end = m.group().find(last, m.group().find(capitals[len(letters) - 2]) + 1)
                found.append(" ".join(fold(m.group()[: end + len(last)]).split()))
    return list(dict.fromkeys(found))


def _meet(
    specific: Sequence[tuple[str, ...]], hits: Sequence[SearchHit], passages: Sequence[str]
) -> bool:
    """Whether the names and numbers meet in one passage, or in two that follow each
    other in one section: a news article names its country in one paragraph and the
    person asked about in the next ("near Andijk" and "in the Netherlands"). Passages
    further apart, or in other sections, do not join them.

    The adjective of a language ("the Spanish-language blog post on Madrid") is met
    by a passage written in that language as well as by one that names it."""
    where = {}
    for hit, passage in zip(hits, passages, strict=True):
        meta = hit.metadata
        index = meta.get("chunk_index")
        written = f"@{meta.get('language', '')}"
        where[(str(meta.get("doc_id", "")), str(meta.get("section_path", "")),
               int(index) if isinstance(index, int | str) and str(index).isdigit() else None,
               hit.chunk_id)] = (passage, written)
    for (doc, section, index, chunk), (passage, written) in where.items():
        joined = [passage, *(
            other for (d, s, i, c), (other, _) in where.items()
            if c != chunk and d == doc and s == section and index is not None
            and i is not None and abs(i - index) == 1
        )]
        if all(written in e or any(_mentions(p, e) for p in joined) for e in specific):
            return True
    return False


def _names_and_rest(question: str) -> tuple[list[tuple[str, Name]], str]:
    """The question's CLDR names (spelling, name), and its folded text without them."""
    covered = fold(question)
    found = find_names(covered)
    for spelling, _ in found:
        covered = re.sub(rf"(?<!\w){re.escape(spelling)}(?!\w)", " ", covered)
    return found, covered


def title_runs(question: str) -> list[list[str]]:
    """The runs of capitalised words in a question ("the Dutch Sea Level Monitor",
    "the World Bank"), less the names `question_entities` gives."""
    _, covered = _names_and_rest(question)
    body = _LEADING.sub("", question)
    matches = list(_TOKEN.finditer(body))
    runs: list[list[str]] = []
    last = -2  # the index of the token that ended the last run
    for i, m in enumerate(matches):
        word = m.group()
        if not (i > 0 and word[0].isupper() and not _NUMBER.fullmatch(word)
                and _in_title(matches, body, i)):
            continue
        if not re.search(rf"(?<!\w){re.escape(fold(word))}(?!\w)", covered):
            continue
        if last >= 0 and _linked(matches, body, last, i):
            runs[-1].append(word)
        else:
            runs.append([word])
        last = i
    return runs


def _run_phrase(question: str, run: Sequence[str]) -> str:
    """A run of title words as the question writes it (folded), with the short words
    between them ("ministerio de sanidad"); empty for a run of one word."""
    if len(run) < 2:
        return ""
    folded = fold(question)
    first, last = fold(run[0]), fold(run[-1])
    start = folded.find(first)
    end = folded.find(last, start + len(first))
    return " ".join(folded[start:end + len(last)].split()) if start >= 0 and end >= 0 else ""


def _part_of_word(word: str, text: str) -> bool:
    """Whether `word` starts or ends a word of `text` (compounds: "monitor" in
    "zeespiegelmonitor")."""
    w = re.escape(word)
    return re.search(rf"(?<!\w){w}|{w}(?!\w)", text) is not None


def _in_title(matches: Sequence[re.Match[str]], body: str, i: int) -> bool:
    """Whether token `i` is one of a run of capitalised words ("the Dutch Sea Level
    Monitor", "el Día Mundial en Recuerdo de las Víctimas"): the name of a report or
    programme, which a question in another language than the report translates, so its
    words need not stand in the text."""
    def capitalised(j: int) -> bool:
        return 0 < j < len(matches) and matches[j].group()[0].isupper()

    return any(capitalised(i - k) and _linked(matches, body, i - k, i)
               or capitalised(i + k) and _linked(matches, body, i, i + k)
               for k in range(1, MAX_TITLE_LINKS + 2))


def _linked(matches: Sequence[re.Match[str]], body: str, a: int, b: int) -> bool:
    """Whether tokens `a` < `b` are one title's words: separated by spaces only, with at
    most `MAX_TITLE_LINKS` short lowercase words between them ("Declaración de
    Bruselas", "World Day of Remembrance"), none of them "and" or "or", which join two
    names rather than make one."""
    if b >= len(matches) or b - a - 1 > MAX_TITLE_LINKS:
        return False
    between = [m.group() for m in matches[a + 1:b]]
    return all(_adjacent(matches, body, j) for j in range(a, b)) and all(
        w.islower() and len(w) <= 3 and w.isalpha() and w not in _CONJUNCTIONS
        for w in between
    )


def _adjacent(matches: Sequence[re.Match[str]], body: str, j: int) -> bool:
    """Whether tokens `j` and `j + 1` are separated by spaces only."""
    return not body[matches[j].end():matches[j + 1].start()].strip()


def _titles_held(
    question: str, question_language: str, passages: Sequence[str],
    passage_terms: Sequence[set[str]], languages: Sequence[str], links: Links,
) -> bool:
    """Whether, for each capitalised name of the question ("the World Bank", "the Dutch
    Sea Level Monitor"), more than half of its words stand in a passage (folded in
    `passages`, analysed in `passage_terms`): as written, as their counterpart in the
    passage's language, or ending a compound. Not all: a question about a report in
    another language names it in translation, and not every word has a counterpart."""
    from assistant.lexical import analyse

    def held(words: Sequence[str]) -> bool:
        named = [(w, terms[0]) for w in words if (terms := analyse(w, question_language))]
        count = sum(
            any(_holds(term, have, lang, links) or _part_of_word(fold(word), passage)
                for have, lang, passage in zip(passage_terms, languages, passages,
                                               strict=True))
            for word, term in named
        )
        return not named or 2 * count > len(named)

    for run in title_runs(question):
        # A name glossed in parentheses ("Ciudad del Cabo (Cape Town)", "el
        # Noordzee-overleg (el diálogo sobre el Mar del Norte)") is one thing in two
        # wordings: either one standing in the passages holds it.
        if not held(run) and not any(held(other) for other in _glossed(question, run)):
            return False
    return True


def _glossed(question: str, run: Sequence[str]) -> list[list[str]]:
    """The other wording of a title run that parentheses pair with it: the words just
    before the parentheses that hold the run, or the words in those that follow it."""
    # The run's words as the question writes them, with the short words between.
    words = rf"\W+(?:\w{{1,3}}\W+){{0,{MAX_TITLE_LINKS}}}".join(re.escape(w) for w in run)
    found = re.search(rf"(?<!\w){words}(?!\w)", question)
    if found is None:
        return []
    before, after = question[:found.start()], question[found.end():]
    opened = before.rfind("(")
    if opened > before.rfind(")") and ")" in after:
        # The run explains what stands before the parentheses: its last word, or the
        # capitalised words that end there ("Ciudad del Cabo").
        preceding = _TOKEN.findall(before[:opened])
        if not preceding:
            return []
        tail = [preceding[-1]]
        for word in reversed(preceding[:-1]):
            if not (word[0].isupper() or word.islower() and len(word) <= 3):
                break
            tail.insert(0, word)
        return [[w for w in tail if w[0].isupper()] or tail]
    gloss = re.match(r"\s*\(([^()]*)\)", after)
    return [_TOKEN.findall(gloss.group(1))] if gloss else []


Links = dict[str, dict[str, str]]


def analysed_terms(question: str, hits: Sequence[SearchHit]) -> tuple[set[str], list[set[str]]]:
    """The question's lexical terms and each passage's terms.

    Analysed once per answer: both the "not found" gate and the sentence
    scoring use them.
    """
    from assistant.language import detect_language
    from assistant.lexical import analyse

    wanted = set(analyse(question, detect_language(question)))
    passages = [
        set(analyse(h.text[: MAX_CANDIDATES * MAX_SENTENCE_CHARS],
                    str(h.metadata.get("language", "en"))))
        for h in hits
    ]
    return wanted, passages


def _holds(term: str, have: set[str], language: str, links: Links) -> bool:
    """Whether a passage (its terms `have`, in `language`) holds a question term,
    as itself or as its counterpart in the passage's language."""
    return term in have or links.get(term, {}).get(language, "\0") in have


def term_coverage(
    wanted: set[str], passages: Sequence[set[str]], languages: Sequence[str] = (),
    links: Links | None = None,
) -> float:
    """The largest share of the question's terms that one passage holds.

    Terms are analysed as for lexical search; with `links` (and the passages'
    `languages`) a term also counts where its counterpart in the passage's
    language stands.
    """
    if not wanted:
        return 1.0
    links = links or {}
    langs = list(languages) or [""] * len(passages)
    return max(
        (sum(_holds(t, have, lang, links) for t in wanted) / len(wanted)
         for have, lang in zip(passages, langs, strict=True)),
        default=0.0,
    )


def _topic_held(
    terms: set[str], passages: Sequence[set[str]], languages: Sequence[str], links: Links,
) -> bool:
    """Whether one passage holds every one of a topic's terms (or their counterparts)."""
    return bool(terms) and any(
        all(_holds(t, have, lang, links) for t in terms)
        for have, lang in zip(passages, languages, strict=True)
    )


def _distinctive_terms(wanted: set[str], passages: Sequence[set[str]]) -> set[str]:
    """The question's terms, less those most passages share (the topic)."""
    return {t for t in wanted if sum(t in p for p in passages) < GENERIC_SHARE * len(passages)}


def _share(
    terms: set[str], sentence: str, hit: SearchHit, links: Links,
    weights: dict[str, float] | None = None,
) -> float:
    """Share of `terms` the sentence holds, read in its passage's language; with
    `weights`, each term counts by its weight."""
    from assistant.lexical import analyse

    if not terms:
        return 0.0
    language = str(hit.metadata.get("language", "en"))
    have = set(analyse(sentence, language))
    weight = weights or {}
    total = sum(weight.get(t, 1.0) for t in terms)
    return sum(weight.get(t, 1.0) for t in terms if _holds(t, have, language, links)) / total


_COUNTED = re.compile(r"\b(?:hoeveel|cu[aá]nt[oa]s|how many)\s+([^\W\d_]+)(?:\s+([^\W\d_]+))?",
                      re.IGNORECASE)
# Words after "how many" that name a unit or a repeat, not a thing counted.
_NOT_COUNTED = frozenset("""
    keer maal procent percent procentpunt jaar jaren euro dollar geld
    veces vez por porcentaje años año dólares euros dinero
    times per percent percentage years year dollars euros money
""".split())


def _counted_terms(question: str, language: str) -> set[str]:
    """The analysed words of what a "how many" question counts: "buques" in "¿Cuántos
    buques integran …?", "elektrische bussen" in "Hoeveel elektrische bussen …?" (in
    Dutch and English an adjective may come first). Empty for other questions."""
    from assistant.lexical import analyse

    match = _COUNTED.search(question)
    if match is None:
        return set()
    words = [w for w in match.groups() if w][: 1 if language == "es" else 2]
    if not words or words[0].lower() in _NOT_COUNTED:
        return set()
    return {t for w in words if w.lower() not in _NOT_COUNTED for t in analyse(w, language)}


def _typed_named(
    candidates: Sequence[_Candidate], specific: Sequence[tuple[str, ...]],
    wanted: Sequence[str],
) -> bool:
    """Whether one sentence names every name the question gives ("Argentinië") and holds
    the kind of answer it asks for (a figure, a year, a place): across languages a
    sentence that does ("En Argentina, menos del 10 % …") can sit under the similarity
    gate, and share few of the question's words."""
    names = [e for e in specific if not _NUMBER.fullmatch(e[0])]
    typed = [t for t in wanted if t in ("number", "date", "place")]
    if not names or not typed:
        return False
    for c in candidates:
        key = fold(c.sentence)
        language = str(c.hit.metadata.get("language", ""))
        if all(_mentions(key, e) for e in names) and any(
                has_answer_type(key, t, language) for t in typed):
            return True
    return False


def _section_title(chunk: SearchHit) -> str:
    """The title of the (sub)section a passage belongs to: the last part of its path."""
    return str(chunk.metadata.get("section_path", "")).rsplit(SECTION_SEPARATOR, 1)[-1]


def _mentions(passage_folded: str, spellings: Sequence[str]) -> bool:
    for spelling in spellings:
        if spelling.startswith("@"):
            continue  # a document's language, not a spelling
        if spelling.endswith("*"):
            # A stem: any word that starts with it.
            if re.search(rf"(?<!\w){re.escape(spelling[:-1])}", passage_folded):
                return True
            continue
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
    return [hit.text[s:e][:MAX_SENTENCE_CHARS] for s, e in sentence_spans(hit.text)]


def _with_reasons(sentences: list[str], language: str) -> list[str]:
    """For a question that asks why: a sentence followed by one that gives a reason
    ("Five of the six stations were used. The sixth is not reliable, because …") is
    quoted with it; the statement alone answers only half of the question."""
    out = []
    for i, sentence in enumerate(sentences):
        following = sentences[i + 1] if i + 1 < len(sentences) else ""
        if following and not has_answer_type(fold(sentence), "reason", language) and (
            has_answer_type(fold(following), "reason", language)
        ) and len(sentence) + len(following) < MAX_SENTENCE_CHARS:
            sentence = f"{sentence} {following}"
        out.append(sentence)
    return out


# A sentence that names who speaks ("…, says coordinator Lonneke Schilte."), in
# Dutch, Spanish and English (folded text).
_SPEAKS = re.compile(
    r"\b(zegt|zei|zeggen|zeiden|aldus|vertelt|vertelde|legt uit|schrijft|schreef|"
    r"dice|dijo|dicen|dijeron|afirma|afirmo|explica|explico|senala|senalo|declaro|"
    r"says|said|say|told|tells|explains|explained|writes|wrote|according to)\b")
_QUOTE_MARKS = "\"“”„«‘'"
# A sentence this short that names someone introduces the quotation after it.
SPEAKER_WORDS = 8


def _with_speakers(sentences: list[str]) -> list[str]:
    """A quotation ("Het is heel uitzonderlijk …") is quoted with the sentence before
    it when that one names the speaker ("…, zegt droogtecoördinator Lonneke Schilte.",
    "Tot verdriet van voorzitter Wallage."): alone, it does not say who said it."""
    out = []
    for i, sentence in enumerate(sentences):
        before = sentences[i - 1] if i else ""
        if before and sentence.lstrip()[:1] in _QUOTE_MARKS and (
            _SPEAKS.search(fold(before)) or before.rstrip().endswith(":")
            or len(before.split()) <= SPEAKER_WORDS and names_someone(before)
        ) and len(before) + len(sentence) < MAX_SENTENCE_CHARS:
            sentence = f"{before} {sentence}"
        out.append(sentence)
    return out


# Subject pronouns for persons, by language: a sentence led by one ("Hij is directeur
# van Floating Solar.") says who only through the sentence before it.
_PERSON_PRONOUNS = {
    "nl": {"hij", "zij"}, "es": {"él", "ella", "ellos", "ellas"}, "en": {"he", "she"},
}


def _with_referents(sentences: list[str], language: str) -> list[str]:
    """A sentence that starts with "he" or "she" is quoted with the sentence before
    it when that one names someone ("… legt Arnoud van Druten uit. Hij is directeur
    van Floating Solar."): alone, it does not say who."""
    pronouns = _PERSON_PRONOUNS.get(language, set())
    out = []
    for i, sentence in enumerate(sentences):
        before = sentences[i - 1] if i else ""
        # Lower case, not folded: "Él" is a pronoun and "El" an article.
        first = sentence.lower().split(maxsplit=1)[:1]
        if (before and first and first[0] in pronouns and names_someone(before)
                and len(before) + len(sentence) < MAX_SENTENCE_CHARS):
            sentence = f"{before} {sentence}"
        out.append(sentence)
    return out


def _table_rows(table: str) -> list[str]:
    """Each data row with its column names, so a quoted row can be read alone."""
    lines = [ln.strip() for ln in table.split("\n") if ln.strip()]
    if lines and re.match(r"^(table|tabla|tabel|tabela|cuadro)\s+\d", lines[0], re.I):
        lines = lines[1:]
    if len(lines) < 2:
        return lines
    header, rows = lines[0], [ln for ln in lines[1:] if not set(ln) <= set("|-: ")]
    return [f"{header} → {row}" for row in rows]


class GateMeasures(Protocol):
    """What the "not found" gates read of the evidence for a question."""

    titled: bool
    topic_held: bool
    top_score: float
    sentence_similarity: float
    coverage: float
    typed_named: bool


def passes_gates(
    evidence: GateMeasures, min_relevance: float, min_sentence_relevance: float,
    min_term_coverage: float,
) -> bool:
    """The "not found" gates: the best passage must reach `min_relevance`, and a
    sentence must come close to the question or one passage must hold most of
    the question's words. A passage can be on topic while none of its
    sentences answers: then neither holds. A broad question ("what does it say
    about X?") sits far from every single passage; a section titled X answers it,
    or a passage that holds every word of its topic."""
    return evidence.titled or evidence.topic_held or (
        evidence.top_score >= min_relevance
    ) and (
        evidence.sentence_similarity >= min_sentence_relevance
        or evidence.coverage >= min_term_coverage
        or evidence.typed_named
    )


class ExtractiveAnswerer:
    def __init__(
        self,
        embedder: Embeddings,
        min_relevance: float,
        max_sentences: int,
        min_sentence_relevance: float = 0.0,
        bridge: TermBridge | None = None,
        section_chunks: Callable[[str], list[SearchHit]] | None = None,
        min_term_coverage: float = MIN_TERM_COVERAGE,
        next_chunk: Callable[[SearchHit], SearchHit | None] | None = None,
        term_share: Callable[[str, str], float] | None = None,
        chunk_vector: Callable[[str], np.ndarray | None] | None = None,
    ) -> None:
        self.min_term_coverage = min_term_coverage
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.min_sentence_relevance = min_sentence_relevance
        self.max_sentences = max_sentences
        self.bridge = bridge
        # A document's chunks by id: broad questions are answered from whole sections.
        self.section_chunks = section_chunks
        # The passage after a hit: a sentence that introduces a list at the end of one
        # passage is quoted with the list, which the next passage holds.
        self.next_chunk = next_chunk
        # The share of a language's live chunks that hold a term (the index's statistics).
        self.term_share = term_share
        # A live chunk's stored vector, as retrieval scored it (its section title and
        # text embedded together): a passage that joins the retrieved ones is scored alike.
        self.chunk_vector = chunk_vector

    def answer(
        self, question: str, language: str, query_vector: Sequence[float],
        hits: Sequence[SearchHit],
    ) -> CitedAnswer:
        evidence = self.evidence(question, language, query_vector, hits)
        if evidence is None or not self.accepts(evidence):
            return not_found(language)
        return self.respond(evidence)

    def accepts(self, evidence: Evidence) -> bool:
        return passes_gates(evidence, self.min_relevance, self.min_sentence_relevance,
                            self.min_term_coverage)

    def evidence(
        self, question: str, language: str, query_vector: Sequence[float],
        hits: Sequence[SearchHit],
    ) -> Evidence | None:
        """What the passages offer for the question, or None when they cannot answer
        it at all (no passages, or a name or number asked about is in none of them)."""
        from assistant.language import detect_language

        if not hits:
            return None
        # An acronym ("ITDP") also matches the name it stands for where the found
        # documents spell it out; `spelled` keeps the acronyms so matched.
        entities: list[tuple[str, ...]] = []
        spelled: set[str] = set()
        documents: list[str] | None = None
        for entity in question_entities(question):
            acronym = _acronym(question, entity)
            if acronym:
                documents = self._documents_text(hits) if documents is None else documents
                full = _spelled_out(acronym, documents)
                if full:
                    spelled.add(entity[0])
                    entity = (*entity, *full)
            entities.append(entity)
        passages = [fold(h.text) for h in hits]
        missing = [e for e in entities if not any(_mentions(p, e) for p in passages)]
        # "… según el informe de Fundar", "cited by TriTAG": a name the question gives
        # as who says it is tried as a source first, even where a passage names it too.
        attributed = [e for e in entities if e not in missing and _attributed(question, e)]
        heads = self._heads(hits) if missing or attributed or title_runs(question) else []
        # A name the documents' head holds (title, byline: "described in WIRED",
        # "the UN Chronicle piece") names the source, not what its passages must say.
        # Not a number: the year a byline dates the piece is no answer to "in 2022?".
        # So does the adjective of the language a found document is written in.
        # The passages then come from the documents so named.
        sources = {
            e: {doc for doc, head, lang in heads if _mentions(fold(head), e) or f"@{lang}" in e}
            for e in [*missing, *attributed] if not _NUMBER.fullmatch(e[0])
        }
        sourced = [e for e, docs in sources.items() if docs]
        missing = [e for e in missing if e not in sourced]
        if sourced:
            named = set.intersection(*(sources[e] for e in sourced)) or set.union(
                *(sources[e] for e in sourced))
            hits = [h for h in hits if str(h.metadata.get("doc_id", "")) in named]
            passages = [fold(h.text) for h in hits]
            # A name that only the passages left out held is sought in the rest of the
            # named documents' sections, as any missing one.
            missing += [e for e in entities if e not in missing and e not in sourced
                        and not any(_mentions(p, e) for p in passages)]
        if "person" in answer_types(question):
            # "Who warned in a 2013 report …?", "¿Quién es la autora del estudio
            # presentado en marzo de 2022?": in a question for a person, a year dates the
            # report or event, which a news text or press note rarely writes; it picks no
            # figure, as it does in "how many … in 2019?". It is no test here.
            sourced += [e for e in missing if _YEAR.fullmatch(e[0])]
            missing = [e for e in missing if e not in sourced]
        if missing:
            # A name or year the passages lack may stand in the rest of their sections:
            # in a list's introduction ("… in the decade 2009-2019:") in the paragraph
            # before, or in a passage that retrieval ranked just below them. The
            # passage that holds it joins them; without one, nothing answers.
            holding = self._holding(missing, hits, query_vector)
            if holding is None:
                return None
            hits = [*hits, *holding]
            passages += [fold(h.text) for h in holding]
        # The names and numbers a question combines ("Kenya" and "2019") must
        # meet in one passage; a name most passages carry is the topic, not a
        # constraint, and is left out of that test, as is one found only in the
        # rest of a section (it holds for the section).
        # A title that stands in a passage as the question writes it ("Ministerio de
        # Sanidad") is such a name too; one that none holds may be translated.
        phrases = [_run_phrase(question, run) for run in title_runs(question)]
        titles = [(phrase,) for phrase in phrases
                  if phrase and any(_mentions(p, (phrase,)) for p in passages)]
        specific = [
            e for e in [*entities, *titles]
            if e not in missing and e not in sourced
            and sum(_mentions(p, e) for p in passages) < GENERIC_SHARE * len(passages)
        ]
        if len(specific) > 1 and not _meet(specific, hits, passages):
            return None
        question_language = detect_language(question, language)
        links: Links = (
            self.bridge.links(question, question_language) if self.bridge is not None else {}
        )
        wanted_terms, passage_terms = analysed_terms(question, hits)
        hit_languages = [str(h.metadata.get("language", "")) for h in hits]
        from assistant.lexical import analyse

        # The adjective of a language ("het Spaanstalige blogstuk") says which document
        # is meant, as the names test above checks; a passage in that language never
        # writes it, so it counts for none of the question's words.
        # So do the words that give the source ("citado por TriTAG") once it is found
        # as one, and an acronym that the passages write in full.
        wanted_terms -= {
            term for token in _TOKEN.findall(question)
            if (name := derived_name(fold(token))) is not None
            and name.key.startswith("language:")
            or any(fold(token) in e for e in sourced)
            or fold(token) in spelled
            for term in analyse(token, question_language)
        }
        if sourced:
            wanted_terms -= {
                term for m in _ATTRIBUTION.finditer(question)
                for term in analyse(m.group()[: m.start("rest") - m.start()], question_language)
            }

        head_terms = [set(analyse(h, lang)) for _, h, lang in heads]
        if not _titles_held(
            question, question_language, [*passages, *(fold(h) for _, h, _ in heads)],
            [*passage_terms, *head_terms], [*hit_languages, *(lang for _, _, lang in heads)],
            links,
        ):
            return None
        from assistant.sections import is_broad, titled, topic, topic_terms

        broad = is_broad(question)
        # "What does it say about X?": when no document holds the words of X, or words
        # they link to, in any language, the documents say nothing about X. One unknown
        # word among several known ones is more often a verb the documents do not use
        # ("que todavía no han trazado ningún plan") than the topic.
        if self.bridge is not None and broad:
            about = topic(question)
            unknown = self.bridge.unknown(about, question_language)
            if unknown and 2 * len(unknown) >= len(content_words(about, question_language)):
                return None
        asked = _distinctive_terms(wanted_terms, passage_terms)
        generic = self._subject_terms(wanted_terms, question_language, links, asked)
        telling = [e for e in specific if not _YEAR.fullmatch(e[0])]
        wanted = answer_types(question)
        seen: set[str] = set()
        candidates = []
        from assistant.sections import is_prose

        headlines: set[str] = set()
        for rank, hit in enumerate(hits):
            is_table = hit.metadata.get("kind") == "table"
            # A news article's headline states its main fact in a sentence ("En la
            # última década 6.5 millones de jóvenes desertaron de bachillerato") that
            # the body may not repeat: a heading that reads as a statement is quoted
            # like one, once, with the first passage under it found.
            # (Less a section number: "4.2 Work, income and daily life" is no headline.)
            heading = _SECTION_NUMBER.sub(
                "", " ".join(str(hit.metadata.get("section", "")).split()))
            if (heading and heading not in headlines and len(heading.split()) >= HEADLINE_WORDS
                    and heading[-1:] not in "?:" and is_prose(heading)
                    and _NUMBER.search(heading)):
                headlines.add(heading)
                seen.add(" ".join(fold(heading).split()))
                candidates.append(_Candidate(hit, rank, heading))
            sentences = _sentences(hit)
            if not is_table and sentences and sentences[-1].rstrip().endswith(":"):
                sentences[-1] = self._with_list(sentences[-1], hit)
            if not is_table and "reason" in wanted:
                sentences = _with_reasons(sentences, str(hit.metadata.get("language", "")))
            if not is_table:
                sentences = _with_referents(_with_speakers(sentences),
                                            str(hit.metadata.get("language", "")))
            for sentence in sentences:
                key = " ".join(fold(sentence).split())
                # Overlapping chunks repeat their edge sentences; quote each once.
                if len(sentence.split()) < 3 or key in seen:
                    continue
                # The title block a document starts with (title, kind, author, date)
                # names the subject and sits close to every question; it answers none.
                title = " ".join(fold(str(hit.metadata.get("title", ""))).split())
                if len(title) >= 15 and key.startswith(title):
                    continue
                # A table row answers only when it holds what was asked: a name or
                # number of the question, or most of its distinctive words.
                if is_table and not (
                    any(_mentions(key, e) for e in telling)
                    if telling else _share(asked, sentence, hit, links) >= 0.5
                ):
                    continue
                seen.add(key)
                candidates.append(_Candidate(hit, rank, sentence))
        if candidates:
            candidates += self._titled_candidates(wanted, asked, candidates, hits, links)
        if not candidates:
            return None
        # "How many X?": a figure answers only in a sentence about some of what the
        # question asks. Where every sentence with a figure shares none of its distinctive
        # words (figures for dengue, none for malaria), the passages hold no such count.
        # (Only where some sentence shares such a word: distinctive words are those few
        # passages hold, and where none holds any, the test says nothing.)
        if "number" in wanted:
            figures = [c for c in candidates if has_answer_type(
                fold(c.sentence), "number", str(c.hit.metadata.get("language", "")))]
            about = [c for c in candidates if _share(asked, c.sentence, c.hit, links) > 0]
            if about and not any(c in figures for c in about):
                return None
            # "¿Cuántos buques …?", "How many electric buses …?": a figure answers only
            # in a sentence that names what is counted (or its counterpart).
            counted = _counted_terms(question, question_language)
            if counted and not any(_share(counted, c.sentence, c.hit, links) > 0
                                   for c in figures):
                return None
        # "How much money / ¿cuánto costó …?": a figure answers only as an amount of
        # money. Where no sentence gives one (a share of GDP, a count of strategies),
        # the passages do not say what it cost.
        if "money" in wanted and not any(_states_money(fold(c.sentence)) for c in candidates):
            return None
        # The cost of a question stays bounded whatever the passages hold: the
        # best-ranked passages' sentences come first.
        candidates = candidates[:MAX_CANDIDATES]
        vectors = np.asarray(self.embedder.embed_documents([c.sentence for c in candidates]))
        similarity = vectors @ np.asarray(query_vector)
        return Evidence(
            question=question, language=language, question_language=question_language,
            query_vector=query_vector, hits=list(hits), links=links,
            top_score=max(h.score for h in hits),
            sentence_similarity=_calibrated_best(similarity, candidates, question_language),
            coverage=term_coverage(wanted_terms, passage_terms, hit_languages, links),
            broad=broad,
            typed_named=_typed_named(candidates, specific, wanted),
            titled=broad and titled(question, question_language, self._sections(hits), links,
                                    generic),
            topic_held=broad and _topic_held(
                topic_terms(question, question_language, generic), passage_terms,
                hit_languages, links),
            candidates=candidates, vectors=vectors, similarity=similarity,
            asked=asked, generic=generic, telling=telling, specific=specific,
        )

    def _titled_candidates(
        self, wanted: Sequence[str], asked: set[str], candidates: Sequence[_Candidate],
        hits: Sequence[SearchHit], links: Links,
    ) -> list[_Candidate]:
        """The sentences that hold the kind of answer asked for (a place, a year) in the
        found documents' sections titled with a word the question asks about, where no
        sentence about it holds one: "Welke landen vormen de kopgroep?" retrieves the
        passage that defines the leading group ("the leading group scores above 60"),
        not "4.1 Pioneers (leading group)", which names its members."""
        from assistant.lexical import analyse

        typed = [t for t in wanted if t in ("place", "date")]
        if not typed or not asked or self.section_chunks is None:
            return []
        if any(has_answer_type(fold(c.sentence), t, str(c.hit.metadata.get("language", "")))
               and _share(asked, c.sentence, c.hit, links) > 0
               for c in candidates for t in typed):
            return []
        have = {h.chunk_id for h in hits}
        # The sections whose titles hold the most of the asked words: "Leading group",
        # not "Trailing group", for "the leading group".
        # (Counted once per section: its passages share the title.)
        by_title: dict[tuple[str, str], int] = {}
        held: dict[str, int] = {}
        others = []
        for doc_id in dict.fromkeys(str(h.metadata.get("doc_id", "")) for h in hits):
            for chunk in self.section_chunks(doc_id) if doc_id else []:
                if chunk.chunk_id in have or chunk.metadata.get("kind") == "table":
                    continue
                language = str(chunk.metadata.get("language", ""))
                title = _section_title(chunk)
                if (title, language) not in by_title:
                    words = set(analyse(title, language))
                    by_title[(title, language)] = sum(
                        _holds(t, words, language, links) for t in asked)
                held[chunk.chunk_id] = by_title[(title, language)]
                others.append(chunk)
        most = max(held.values(), default=0)
        titled = [c for c in others if most and held[c.chunk_id] == most]
        seen = {" ".join(fold(c.sentence).split()) for c in candidates}
        added = []
        for chunk in titled[:MAX_TITLED_PASSAGES]:
            language = str(chunk.metadata.get("language", ""))
            for sentence in _sentences(chunk):
                key = " ".join(fold(sentence).split())
                if key not in seen and len(sentence.split()) >= 3 and any(
                        has_answer_type(key, t, language) for t in typed):
                    seen.add(key)
                    added.append(_Candidate(chunk, len(hits), sentence))
        return added

    def _documents_text(self, hits: Sequence[SearchHit]) -> list[str]:
        """The passages of the documents that `hits` come from (the hits alone without
        a way to read the documents)."""
        if self.section_chunks is None:
            return [h.text for h in hits]
        return [c.text for doc_id in dict.fromkeys(str(h.metadata.get("doc_id", ""))
                                                   for h in hits) if doc_id
                for c in self.section_chunks(doc_id)]

    def _heads(self, hits: Sequence[SearchHit]) -> list[tuple[str, str, str]]:
        """(document id, text, language) of the head of each document the passages come
        from: its title and first passage, where a byline names author and publisher."""
        heads = []
        for doc_id, hit in {str(h.metadata.get("doc_id", "")): h for h in hits}.items():
            first = self.section_chunks(doc_id)[:1] if self.section_chunks and doc_id else []
            text = " ".join([str(hit.metadata.get("title", "")), *(c.text for c in first)])
            heads.append((doc_id, text, str(hit.metadata.get("language", ""))))
        return heads

    def _holding(
        self, names: Sequence[tuple[str, ...]], hits: Sequence[SearchHit],
        query_vector: Sequence[float],
    ) -> list[SearchHit] | None:
        """The passages of the retrieved passages' sections that hold `names` (the first
        in document order for each name), scored as retrieval would have; None when the
        sections lack one of them."""
        if self.section_chunks is None:
            return None
        sections = {(str(h.metadata.get("doc_id", "")), str(h.metadata.get("section_path", "")))
                    for h in hits}
        have = {h.chunk_id for h in hits}
        others = [
            c for doc_id in dict.fromkeys(d for d, _ in sections if d)
            for c in self.section_chunks(doc_id)
            if (doc_id, str(c.metadata.get("section_path", ""))) in sections
            and c.chunk_id not in have
        ]
        folded = [fold(c.text) for c in others]
        chosen: list[SearchHit] = []
        for name in names:
            found = next((c for c, f in zip(others, folded, strict=True)
                          if _mentions(f, name)), None)
            if found is None:
                return None
            if found not in chosen:
                chosen.append(found)
        # Scored as retrieval scores: similarity of the stored vector, less its
        # language's baseline. Embedded here only where no stored vector is at hand.
        baselines = {str(h.metadata.get("language", "")): h.score - h.relevance for h in hits}
        stored = [self.chunk_vector(c.chunk_id) if self.chunk_vector else None for c in chosen]
        if any(v is None for v in stored):
            fresh = iter(self.embedder.embed_documents(
                [c.text for c, v in zip(chosen, stored, strict=True) if v is None]))
            stored = [np.asarray(next(fresh)) if v is None else v for v in stored]
        scored = []
        for chunk, vector in zip(chosen, stored, strict=True):
            score = float(np.asarray(vector) @ np.asarray(query_vector))
            base = baselines.get(str(chunk.metadata.get("language", "")), score)
            scored.append(SearchHit(chunk.chunk_id, chunk.text, chunk.metadata, score,
                                    relevance=score - base, embedding=vector))
        return scored

    def _subject_terms(
        self, terms: set[str], language: str, links: Links, distinctive: set[str]
    ) -> set[str]:
        """The question's terms that name what the documents are about rather than a topic
        within them: most chunks of their language hold them, or hold their counterpart.
        Without the index's statistics, the terms most retrieved passages hold."""
        if self.term_share is None:
            return terms - distinctive
        return {t for t in terms if self._index_share(t, language, links) >= SUBJECT_SHARE}

    def _term_weights(self, terms: set[str], language: str, links: Links) -> dict[str, float]:
        """Each term's weight in a sentence's share of the question: rare words tell more
        ("drought" more than "countries"), by the share of chunks that hold the term, or
        its counterpart, in their language (an inverse document frequency)."""
        if self.term_share is None:
            return {}
        return {
            t: math.log(1 + 1 / max(MIN_SHARE, self._index_share(t, language, links)))
            for t in terms
        }

    def _index_share(self, term: str, language: str, links: Links) -> float:
        """The share of chunks that hold `term` in `language`, or its counterpart in
        another language, whichever is larger."""
        assert self.term_share is not None
        share = self.term_share
        return max([share(term, language),
                    *(share(p, lang) for lang, p in links.get(term, {}).items())])

    def _sections(self, hits: Sequence[SearchHit]) -> list[tuple[str, str]]:
        """(language, section path) of the retrieved passages, then of every other section
        of the documents they come from: a section titled with what a broad question
        asks about may hold none of the passages retrieval ranked best."""
        paths = [(str(h.metadata.get("language", "")), str(h.metadata.get("section_path", "")))
                 for h in hits]
        if self.section_chunks is not None:
            for doc_id in dict.fromkeys(str(h.metadata.get("doc_id", "")) for h in hits):
                if doc_id:
                    paths += [(str(c.metadata.get("language", "")),
                               str(c.metadata.get("section_path", "")))
                              for c in self.section_chunks(doc_id)]
        return list(dict.fromkeys(paths))

    def _with_list(self, sentence: str, hit: SearchHit) -> str:
        """A sentence that ends its passage with a colon, followed by what it introduces
        (a list, usually) from the next passage of the same section."""
        following = self.next_chunk(hit) if self.next_chunk is not None else None
        if following is None or following.metadata.get("section_path") != hit.metadata.get(
            "section_path"
        ) or following.metadata.get("kind") == "table":
            return sentence
        rest = " ".join(following.text.split())
        # Passages overlap by a sentence: the colon's sentence may open the next one too.
        head = " ".join(sentence.split())
        if rest.startswith(head):
            rest = rest[len(head):].lstrip()
        if len(rest) > MAX_LIST_CHARS:
            rest = rest[:MAX_LIST_CHARS].rsplit(" ", 1)[0] + " …"
        return f"{sentence.rstrip()} {rest}" if rest else sentence

    def respond(self, evidence: Evidence) -> CitedAnswer:
        """The answer from evidence that passed the gates."""
        question, language = evidence.question, evidence.language
        query_vector, hits, links = evidence.query_vector, evidence.hits, evidence.links
        question_language = evidence.question_language
        candidates, vectors = evidence.candidates, evidence.vectors
        similarity, asked, specific = evidence.similarity, evidence.asked, evidence.specific
        from assistant.sections import section_answer

        limit, window = self.max_sentences, SELECTION_WINDOW
        if evidence.broad:
            # A broad question that passed the gates is answered from its section; when
            # no one section is about it, with more of the sentences that are.
            if self.section_chunks is not None:
                broad = section_answer(
                    self, question, language, question_language, query_vector, hits, links,
                    evidence.generic,
                )
                if broad is not None:
                    return broad
                # No section is about it: the sentences that name its topic.
                from assistant.topics import topic_answer

                mentions = topic_answer(self, evidence)
                if mentions is not None:
                    return mentions
            limit, window = self.max_sentences + BROAD_EXTRA, BROAD_WINDOW
        # Generic sentences (an introduction naming the subject and the year) sit
        # close to every question. Their closeness to the centre of all
        # candidates measures that, and is discounted.
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        similarity = similarity - HUB_PENALTY * (vectors @ centre)
        top_hit = max(h.relevance for h in hits)
        wanted = answer_types(question)
        weights = self._term_weights(asked, question_language, links)
        # A year marks the sentences about it, as names do ("¿cuántas murieron en 2018?"),
        # but not the year a document's title holds ("ILIA 2025" and "which countries in
        # 2025?"): that dates the documents, and their introductions repeat it.
        titles = {fold(str(h.metadata.get("title", ""))) for h in hits}
        marks = [e for e in specific
                 if not (_YEAR.fullmatch(e[0]) and any(_mentions(t, e) for t in titles))]
        folded_candidates = [fold(c.sentence) for c in candidates]
        scores = []
        for cand, folded, sim in zip(candidates, folded_candidates, similarity, strict=True):
            # Years count as names here: "in 2018" picks the sentence about 2018.
            named = sum(_mentions(folded, e) for e in marks) / max(1, len(marks))
            shared = _share(asked, cand.sentence, cand.hit, links, weights)
            typed = any(
                names_someone(cand.sentence) if kind == "person"
                else has_answer_type(folded, kind, str(cand.hit.metadata.get("language", "")))
                for kind in wanted)
            # The passage's language baseline applies to its sentences too, and the
            # passage's rank carries the context the lone sentence lacks.
            language_offset = cand.hit.relevance - cand.hit.score
            scores.append(
                float(sim) + language_offset + 1.0 * (cand.hit.relevance - top_hit)
                + 0.08 * named + ANSWER_TYPE_BONUS * typed + TERM_BONUS * shared
            )
        facts = group_facts(
            scores, vectors, folded_candidates, limit, window,
            passages=[c.hit.chunk_id for c in candidates],
        )
        languages = [str(c.hit.metadata.get("language", "")) for c in candidates]
        grouped = [[candidates[i] for i in fact]
                   for fact in quoted_first(facts, languages, language, scores)]
        return compose(language, grouped)


def _calibrated_best(
    similarity: np.ndarray, candidates: Sequence[_Candidate], question_language: str
) -> float:
    """The best sentence's similarity, as if it were in the question's language.

    Multilingual embedders score a sentence in another language lower than an equally
    close one in the question's own. Retrieval measured each language's baseline (a
    passage's score less its relevance); a sentence in a language whose baseline is
    lower is raised by the gap, where the question language's is known. Never lowered:
    a language whose passages all sit close to the question (one document on the
    topic) has a high baseline, not better sentences."""
    baselines = {str(c.hit.metadata.get("language", "")): c.hit.score - c.hit.relevance
                 for c in candidates}
    own = baselines.get(question_language)
    if own is None:
        return float(similarity.max())
    return max(
        float(sim) + max(0.0, own - baselines[str(c.hit.metadata.get("language", ""))])
        for sim, c in zip(similarity, candidates, strict=True)
    )


def group_facts(
    scores: Sequence[float], vectors: np.ndarray, texts: Sequence[str], limit: int,
    window: float, passages: Sequence[str] | None = None,
) -> list[list[int]]:
    """The candidates (by index) scored within `window` of the best, as at most `limit`
    facts, best first: a candidate that states a fact already chosen (`same_fact`, with
    any of its wordings) joins it. With `passages` (each candidate's passage), at most
    `MAX_PER_PASSAGE` facts come from one passage."""
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    if not order:
        return []
    best = scores[order[0]]
    facts: list[list[int]] = []  # each: the candidates that state one fact
    per_passage: dict[str, int] = {}
    for i in order:
        if scores[i] < best - window or len(facts) == limit:
            break
        # Any wording of a fact may be the one this sentence translates.
        same = next(
            (f for f in facts if any(
                same_fact(vectors[i], vectors[j], texts[i], texts[j]) for j in f)),
            None,
        )
        if same is not None:
            same.append(i)
            continue
        if passages is None:
            facts.append([i])
            continue
        # Spread the quotes over passages: a second relevant passage is
        # worth more than a third sentence of the same one.
        if per_passage.get(passages[i], 0) < MAX_PER_PASSAGE:
            per_passage[passages[i]] = per_passage.get(passages[i], 0) + 1
            facts.append([i])
    return facts


def quoted_first(
    facts: Sequence[Sequence[int]], languages: Sequence[str], language: str,
    scores: Sequence[float],
) -> list[list[int]]:
    """Each fact's wordings, the one to quote first: in `language` where a passage says it
    in that language, else the best-scored; the others are cited with it."""
    return [sorted(fact, key=lambda i: (languages[i] != language, -scores[i]))
            for fact in facts]


def same_fact(a: np.ndarray, b: np.ndarray, text_a: str, text_b: str) -> bool:
    """Whether two sentences (unit vectors and texts) state one fact, in one language
    or two. With figures: the same figures and close meaning (a translation sits at
    0.87–0.95 with multilingual-e5; another row of the same table shares the wording,
    not the figures). Without figures: very close meaning."""
    numbers_a = {number_key(n) for n in _NUMBER.findall(text_a)}
    numbers_b = {number_key(n) for n in _NUMBER.findall(text_b)}
    similarity = float(a @ b)
    if numbers_a or numbers_b:
        close = numbers_a == numbers_b and similarity >= SAME_FIGURES
    else:
        close = similarity >= SAME_FACT
    # Two sentences of one paragraph sit as close as a translation does; in one
    # language, the same fact is also told in mostly the same words.
    return close and (_language_of(text_a) != _language_of(text_b)
                      or _word_overlap(text_a, text_b) >= SAME_WORDS)


@functools.lru_cache(maxsize=4096)
def _language_of(sentence: str) -> str:
    from assistant.language import detect_language

    return detect_language(sentence)


def _word_overlap(a: str, b: str) -> float:
    """Share of the shorter sentence's longer words that the other one holds."""
    words_a = set(_LONG_WORD.findall(fold(a)))
    words_b = set(_LONG_WORD.findall(fold(b)))
    if not words_a or not words_b:
        return 1.0
    return len(words_a & words_b) / min(len(words_a), len(words_b))


def compose(language: str, facts: Sequence[Sequence[_Candidate]]) -> CitedAnswer:
    """The answer: one line per fact, quoting its first wording, citing every passage
    that states it."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []

    def number(hit: SearchHit) -> int:
        if hit.chunk_id not in numbers:
            numbers[hit.chunk_id] = len(numbers) + 1
            citations.append(citation(numbers[hit.chunk_id], hit))
        return numbers[hit.chunk_id]

    lines = [text(language, "according_to")]
    quoted_languages: list[str] = []
    for fact in facts:
        first = fact[0]
        source_lang = str(first.hit.metadata.get("language", ""))
        # Other passages in the quoted passage's language are cited beside it; those
        # in other languages are named after the quote.
        same = [c for c in fact[1:] if str(c.hit.metadata.get("language", "")) == source_lang]
        marks = "".join(f"[{n}]" for n in dict.fromkeys(number(c.hit) for c in [first, *same]))
        line = f"- {first.sentence.strip()} {marks}"
        if source_lang and source_lang != language and source_lang not in quoted_languages:
            quoted_languages.append(source_lang)
        others = also_cited(language, [(number(c.hit), c.hit) for c in fact[1:]
                                       if c not in same], source_lang)
        if others:
            line += " " + text(language, "also_in", sources=others)
        lines.append(line)
    if quoted_languages:
        # Said once: the quotes keep the source's words; only a model writes them anew.
        lines.append(quoted_note(language, quoted_languages))
    return CitedAnswer("\n".join(lines), language, citations, found=True)


def quoted_note(language: str, source_languages: Sequence[str]) -> str:
    """The note after quotes in other languages, e.g. "(Quoted in Spanish and English …)"."""
    return text(language, "quoted_note", languages=language_list(language, source_languages))


def also_cited(language: str, cited: Sequence[tuple[int, SearchHit]], quoted_lang: str) -> str:
    """"Spanish [2][3], English [4]": the other passages that say what a line quotes,
    grouped by their language (those in the quoted passage's language by number only)."""
    by_language: dict[str, list[int]] = {}
    for n, hit in cited:
        lang = str(hit.metadata.get("language", ""))
        numbers = by_language.setdefault("" if lang == quoted_lang else lang, [])
        if n not in numbers:
            numbers.append(n)
    parts = []
    for lang, numbers in sorted(by_language.items(), key=lambda kv: kv[0] != ""):
        marks = "".join(f"[{n}]" for n in numbers)
        if not lang:
            parts.append(marks)
        elif any(p[:1] != "[" for p in parts):
            parts.append(f"{language_name(language, lang)} {marks}")
        else:
            # "(also [3], in Spanish [2], English [4])": the first language named says "in".
            named = text(language, "in_language", language=language_name(language, lang))
            parts.append(f"{named} {marks}")
    return ", ".join(parts)


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
