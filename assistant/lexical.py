"""Lexical search: BM25 over analysed terms, with cross-lingual concepts.

Each text is analysed in its own language: accents folded, stop words
dropped, Snowball stems. Names and domain words that differ per language
(Brazilië / Brasil / Brazil, investeringen / inversiones / investments) become
one concept token, so they match across languages. Numbers are kept whole with
a normalised decimal point ("1,12" and "1.12" are one term).
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from assistant.terms import CONCEPTS, TERMS, fold

_STEMMER_NAMES = {"nl": "dutch", "es": "spanish", "en": "english", "pt": "portuguese"}
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
CONCEPT_PREFIX = "~"

_STOP_WORDS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        """de het een en of maar van voor naar in op aan met door bij uit om over onder tot als
        dan dat die dit deze wat welke welk wie waar waarom hoe hoeveel is zijn was waren wordt
        worden werd werden heeft hebben had hadden kan kunnen zal zullen zou zouden er niet geen
        ook nog al wel zo te meer meest veel hun haar zijn hij zij we wij ik je u ze men ons onze
        volgens per rapport index ilia landen land""".split()
    ),
    "es": frozenset(
        """el la los las un una unos unas y o pero de del al en a por para con sin sobre entre
        que qué cual cuál cuales cuáles quien quién donde dónde como cómo cuanto cuánto cuántos
        cuántas es son fue fueron ser está están era han ha haber tiene tienen se su sus lo le
        les no ni más muy ya también este esta estos estas ese esa según informe índice ilia
        países país""".split()
    ),
    "en": frozenset(
        """the a an and or but of for to in on at by with without from into over under about
        as than that this these those what which who whom where why how many much is are was
        were be been being has have had do does did can could will would shall should not no
        also more most its it their they them there here according report index ilia
        countries country""".split()
    ),
}


# Compared after accent folding, like every token.
STOP_WORDS = {lang: frozenset(fold(w) for w in words) for lang, words in _STOP_WORDS.items()}


_THREAD = threading.local()


def _stemmer(language: str):  # noqa: ANN202 - snowballstemmer has no type hints
    import snowballstemmer

    # A stemmer keeps the word it works on in itself: one per thread, never shared
    # (the web app answers several questions at once).
    stemmers = _THREAD.__dict__.setdefault("stemmers", {})
    if language not in stemmers:
        stemmers[language] = snowballstemmer.stemmer(_STEMMER_NAMES.get(language, "english"))
    return stemmers[language]


@functools.cache
def _concept_maps() -> tuple[dict[str, str], dict[str, dict[str, str]], list[tuple[str, str]]]:
    """(surface form -> concept, per-language stem -> concept, multi-word phrases)."""
    surface: dict[str, str] = {}
    stems: dict[str, dict[str, str]] = defaultdict(dict)
    phrases: list[tuple[str, str]] = []
    groups: list[tuple[str, dict[str, tuple[str, ...]]]] = [
        (key, {"*": variants}) for key, variants in TERMS.items()
    ] + list(CONCEPTS.items())
    for key, by_language in groups:
        token = CONCEPT_PREFIX + key.replace(" ", "_").replace("-", "_")
        for language, variants in by_language.items():
            for variant in variants:
                form = fold(variant)
                if " " in form:
                    phrases.append((form, token))
                    continue
                surface[form] = token
                if language != "*":
                    stems[language][_stemmer(language).stemWord(form)] = token
    phrases.sort(key=lambda p: len(p[0]), reverse=True)
    return surface, dict(stems), phrases


def analyse(text: str, language: str, concepts: bool = True) -> list[str]:
    """The index terms of `text`, read as `language`; `concepts=False` skips the term map."""
    surface, stems, phrases = _concept_maps() if concepts else ({}, {}, [])
    folded = fold(text)
    for phrase, token in phrases:
        if phrase in folded:
            folded = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", f" {token[1:]}§ ", folded)
    stop = STOP_WORDS.get(language, frozenset())
    stemmer = _stemmer(language)
    lang_stems = stems.get(language, {})
    terms: list[str] = []
    for raw in re.findall(r"[\w§.,-]+", folded):
        if raw.endswith("§"):
            terms.append(CONCEPT_PREFIX + raw[:-1])
            continue
        for tok in _TOKEN.findall(raw):
            if tok[0].isdigit():
                terms.append(re.sub(r"(?<=\d),(?=\d)", ".", tok))
                continue
            # "AI-strategie" is "AI" + "strategie", unless known whole ("Latijns-Amerika").
            parts = [tok] if tok in surface or "-" not in tok else tok.split("-")
            for part in parts:
                if part in stop or len(part) < 2:
                    continue
                if part in surface:
                    terms.append(surface[part])
                    continue
                stem = stemmer.stemWord(part)
                if stem in lang_stems:
                    terms.append(lang_stems[stem])
                elif language == "nl" and concepts:
                    terms.extend(_split_compound(part, stemmer, lang_stems, surface))
                else:
                    terms.append(stem)
    return terms


def _split_compound(
    word: str, stemmer: Any, stems: dict[str, str], surface: dict[str, str]
) -> list[str]:
    """Dutch writes compounds as one word ("degradatiegevaar"): when a known
    concept ends the word, index the concept and the stem of the rest too."""
    whole = stemmer.stemWord(word)
    for i in range(3, len(word) - 3):
        head, tail = word[:i], word[i:]
        concept = surface.get(tail) or stems.get(stemmer.stemWord(tail))
        if concept:
            return [whole, concept, stems.get(stemmer.stemWord(head), stemmer.stemWord(head))]
    return [whole]


@dataclass(frozen=True)
class LexicalDoc:
    chunk_id: str
    text: str
    language: str


class BM25Index:
    """Okapi BM25 over analysed chunks; small enough to rebuild when documents change."""

    def __init__(
        self,
        docs: Iterable[LexicalDoc],
        concepts: bool = True,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.k1, self.b = k1, b
        self.concepts = concepts
        self.ids: list[str] = []
        self._tf: list[Counter[str]] = []
        self._len: list[int] = []
        df: Counter[str] = Counter()
        for doc in docs:
            terms = analyse(doc.text, doc.language, concepts)
            counts = Counter(terms)
            self.ids.append(doc.chunk_id)
            self._tf.append(counts)
            self._len.append(len(terms))
            df.update(counts.keys())
        n = len(self.ids)
        self._avg = (sum(self._len) / n) if n else 0.0
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._postings: dict[str, list[int]] = defaultdict(list)
        for i, counts in enumerate(self._tf):
            for term in counts:
                self._postings[term].append(i)

    def __len__(self) -> int:
        return len(self.ids)

    def search(
        self,
        query: str,
        language: str,
        k: int,
        allowed: Callable[[str], bool] | None = None,
    ) -> list[tuple[str, float]]:
        """The best `k` chunk ids for `query` (read as `language`), with BM25 scores."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(analyse(query, language, self.concepts)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for i in self._postings[term]:
                tf = self._tf[i][term]
                norm = self.k1 * (1 - self.b + self.b * self._len[i] / (self._avg or 1.0))
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        out: list[tuple[str, float]] = []
        for i, score in ranked:
            if allowed is None or allowed(self.ids[i]):
                out.append((self.ids[i], score))
                if len(out) == k:
                    break
        return out

