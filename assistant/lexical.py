"""Lexical search: BM25 over analysed terms.

Each text is analysed in its own language: accents folded, stop words
dropped, Snowball stems. Numbers are kept whole with a normalised decimal
point ("1,12" and "1.12" are one term). Words that differ across languages
(investeringen / inversiones / investments) are linked by `assistant.bridge`,
which adds the linked terms to a question's terms at search time.
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from assistant.textnorm import fold

_STEMMER_NAMES = {"nl": "dutch", "es": "spanish", "en": "english", "pt": "portuguese"}
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

# Function words, and the words every question about a document uses ("report",
# "according"), which say nothing about what is asked.
_STOP_WORDS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        """de het een en of maar van voor naar in op aan met door bij uit om over onder tot als
        dan dat die dit deze wat welke welk wie waar waarom hoe hoeveel is zijn was waren wordt
        worden werd werden heeft hebben had hadden kan kunnen zal zullen zou zouden er niet geen
        ook nog al wel zo te meer meest veel hun haar zijn hij zij we wij ik je u ze men ons onze
        volgens per rapport""".split()
    ),
    "es": frozenset(
        """el la los las un una unos unas y o pero de del al en a por para con sin sobre entre
        que qué cual cuál cuales cuáles quien quién donde dónde como cómo cuanto cuánto cuántos
        cuántas es son fue fueron ser está están era han ha haber tiene tienen se su sus lo le
        les no ni más muy ya también este esta estos estas ese esa según informe""".split()
    ),
    "en": frozenset(
        """the a an and or but of for to in on at by with without from into over under about
        as than that this these those what which who whom where why how many much is are was
        were be been being has have had do does did can could will would shall should not no
        also more most its it their they them there here according report""".split()
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


# Analysing a word is the same every time it is met, and stemming is slow (snowballstemmer
# is pure Python). A corpus has far fewer distinct words than words, so each word's terms
# are remembered, per language. The dicts are shared by all threads: single get/set calls
# are atomic, and the stored tuples never change. Emptied when full, which bounds memory
# at the cost of stemming again.
_WORD_CACHE_SIZE = 200_000
_WORD_CACHES: dict[str, dict[str, tuple[str, ...]]] = {}
_RAW_WORD = re.compile(r"[\w.,-]+")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


class _NonCombining(dict[int, int | None]):
    """str.translate table that deletes combining marks, filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_NON_COMBINING = _NonCombining()


def _fold(text: str) -> str:
    """`textnorm.fold`, faster: after the word cache, folding char by char was most of the
    time."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.lower()).translate(_NON_COMBINING)


def analyse(text: str, language: str) -> list[str]:
    """The index terms of `text`, read as `language`."""
    return [term for term, _ in analysed_words(text, language)]


def analysed_words(text: str, language: str) -> list[tuple[str, str]]:
    """Each index term of `text` with the folded word it came from."""
    out: list[tuple[str, str]] = []
    for raw in _RAW_WORD.findall(_fold(text)):
        found = _word_terms(raw, language)
        # Stored flat as (term, word, term, word, ...): one tuple per cached word.
        out.extend(zip(found[0::2], found[1::2], strict=True))
    return out


def analysed_counts(text: str, language: str) -> Counter[tuple[str, str]]:
    """How often each (term, word) pair occurs in `text`.

    What the index needs (BM25 counts terms, the bridge collects words), and much cheaper
    than `analysed_words` on long or repetitive text: each distinct word is looked up once,
    not once per occurrence (a 6 MB text of one word repeated took 7 s per pass)."""
    out: Counter[tuple[str, str]] = Counter()
    for raw, count in Counter(_RAW_WORD.findall(_fold(text))).items():
        found = _word_terms(raw, language)
        for pair in zip(found[0::2], found[1::2], strict=True):
            out[pair] += count
    return out


def _word_terms(raw: str, language: str) -> tuple[str, ...]:
    """The flattened (term, word) pairs of one run of word characters, from the cache."""
    cache = _WORD_CACHES.get(language)
    if cache is None:
        cache = _WORD_CACHES.setdefault(language, {})
    found = cache.get(raw)
    if found is None:
        found = _analyse_word(raw, language)
        if len(cache) >= _WORD_CACHE_SIZE:
            cache.clear()
        cache[raw] = found
    return found


def term_counts(pairs: Counter[tuple[str, str]]) -> Counter[str]:
    """The counts of `analysed_counts` per term, whatever word each came from."""
    out: Counter[str] = Counter()
    for (term, _), count in pairs.items():
        out[term] += count
    return out


def _analyse_word(raw: str, language: str) -> tuple[str, ...]:
    """The (term, word) pairs of one run of word characters, flattened."""
    stop = STOP_WORDS.get(language, frozenset())
    stemmer = _stemmer(language)
    pairs: list[str] = []
    for tok in _TOKEN.findall(raw):
        if tok[0].isdigit():
            pairs += [_DECIMAL_COMMA.sub(".", tok).rstrip(".,"), tok]
            continue
        # "AI-strategie" is "AI" + "strategie".
        for part in tok.split("-"):
            if part in stop or len(part) < 2:
                continue
            pairs += [stemmer.stemWord(part), part]
    return tuple(pairs)


def terms_match(a: str, b: str, prefix: int = 5) -> bool:
    """Two terms of one language match when equal or sharing a long beginning: the
    stemmer leaves "recomienda" as "recomiend" and "Recomendaciones" as "recomend"."""
    if a == b:
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= prefix and common >= 0.6 * min(len(a), len(b))


@dataclass(frozen=True)
class LexicalDoc:
    chunk_id: str
    text: str
    language: str


# Blocks of postings searched unmerged before the next search merges them.
_MAX_PENDING_BLOCKS = 16


@dataclass
class _Group:
    """Where a group's chunks are and what they add to the corpus statistics."""

    start: int  # first row
    stop: int  # one past the last row
    terms: np.ndarray  # int32 ids of the terms in the group's chunks
    chunks: np.ndarray  # int32: for each of those terms, how many of the chunks hold it
    length: int  # number of terms over all the chunks


class BM25Index:
    """Okapi BM25 over analysed chunks, updated a group of chunks at a time.

    Each chunk is a row. Postings are kept per term (CSR by term id: the rows
    holding the term and how often); a removed group's rows are only marked
    dead until they are more than half of all rows, then dropped. N, the mean
    length and the document frequencies always count the live chunks only, so
    scores are those of an index built from scratch over the same chunks.
    """

    def __init__(
        self,
        docs: Iterable[LexicalDoc],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        """Index `docs` as the group "" (no group when there are none)."""
        self.k1, self.b = k1, b
        # Searches from several threads (the web app answers questions at once) and
        # updates from ingestion share the index.
        self._lock = threading.Lock()
        self._groups: dict[str, _Group] = {}
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(0, np.int64)  # live chunks holding each term id
        # Per row; arrays keep spare room (see _grown), valid up to self._rows.
        self._ids: list[str] = []
        self._lens = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._rows = 0
        self._live = 0
        self._total = 0  # summed length of the live rows
        # Postings of term t: self._post_rows / _post_tf[indptr[t]:indptr[t + 1]], plus
        # blocks (term, row, tf) added since, sorted by term, until they are merged in.
        self._indptr = np.zeros(1, np.int64)
        self._post_rows = np.zeros(0, np.int32)
        self._post_tf = np.zeros(0, np.float32)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending_postings = 0
        self._norm: np.ndarray | None = None  # BM25 length norm per row, for the current mean
        docs = list(docs)
        if docs:
            self.add("", docs)

    def __len__(self) -> int:
        return self._live

    def groups(self) -> set[str]:
        with self._lock:
            return set(self._groups)

    def add(self, group: str, docs: Iterable[LexicalDoc]) -> None:
        """Index `docs` as `group`, replacing what the group held before."""
        docs = list(docs)
        # Analysis is the slow part and touches no index state: searches go on meanwhile.
        self.add_counted(group, [doc.chunk_id for doc in docs],
                         [term_counts(analysed_counts(doc.text, doc.language)) for doc in docs])

    def add_counted(self, group: str, ids: list[str], counts: list[Counter[str]]) -> None:
        """Index chunks already analysed (`term_counts` of each, row for row with `ids`)
        as `group`, replacing what the group held before."""
        with self._lock:
            self._remove(group)
            self._append(group, ids, counts)

    def remove(self, group: str) -> None:
        """Drop the chunks of `group`; nothing happens if there is no such group."""
        with self._lock:
            self._remove(group)

    def _append(self, group: str, ids: list[str], counts: list[Counter[str]]) -> None:
        vocab = self._vocab
        n = len(ids)
        distinct = np.fromiter((len(c) for c in counts), np.int64, n)
        lengths = np.fromiter((sum(c.values()) for c in counts), np.int64, n)
        size = int(distinct.sum())
        term_ids = np.fromiter(
            (vocab.setdefault(term, len(vocab)) for c in counts for term in c), np.int64, size)
        tf_of = np.fromiter((tf for c in counts for tf in c.values()), np.int64, size)
        # One key per (term, chunk), sorted by term then chunk; its count is the tf.
        width = max(n, 1)
        keys = term_ids * width + np.repeat(np.arange(n), distinct)
        order = np.argsort(keys, kind="stable")
        keys, tf = keys[order], tf_of[order]
        terms = keys // width
        group_terms, chunks = np.unique(terms, return_counts=True)
        start, stop = self._rows, self._rows + n
        self._df = _grown(self._df, len(vocab))
        self._df[group_terms] += chunks
        self._lens = _grown(self._lens, stop)
        self._lens[start:stop] = lengths
        self._alive = _grown(self._alive, stop)
        self._alive[start:stop] = True
        self._ids.extend(ids)
        self._rows, self._live = stop, self._live + n
        self._total += int(lengths.sum())
        self._groups[group] = _Group(
            start, stop, group_terms.astype(np.int32), chunks.astype(np.int32),
            int(lengths.sum()),
        )
        if len(keys):
            self._pending.append((
                terms.astype(np.int32),
                (keys % width + start).astype(np.int32),
                tf.astype(np.float32),
            ))
            self._pending_postings += len(keys)
        self._norm = None

    def _remove(self, group: str) -> None:
        found = self._groups.pop(group, None)
        if found is None:
            return
        self._alive[found.start : found.stop] = False
        self._df[found.terms] -= found.chunks
        self._live -= found.stop - found.start
        self._total -= found.length
        self._norm = None
        if 2 * (self._rows - self._live) > self._rows:
            self._compact()

    def _merge(self) -> None:
        """Fold the blocks added since the last merge into the per-term postings."""
        if not self._pending:
            return
        size = len(self._vocab)
        terms = np.concatenate([block[0] for block in self._pending])
        order = np.argsort(terms, kind="stable")
        terms = terms[order]
        rows = np.concatenate([block[1] for block in self._pending])[order]
        tf = np.concatenate([block[2] for block in self._pending])[order]
        new = np.bincount(terms, minlength=size)
        if len(self._post_rows):
            old = np.zeros(size, np.int64)
            old[: len(self._indptr) - 1] = np.diff(self._indptr)
            new_before = np.zeros(size + 1, np.int64)
            np.cumsum(new, out=new_before[1:])
            # Only the new postings are sorted. The merged ones keep their order and move
            # up by the new postings of the terms before theirs; the i-th new posting (of
            # term t) moves up by the merged postings of terms up to and including t.
            to_old = np.arange(len(self._post_rows)) + np.repeat(new_before[:-1], old)
            to_new = np.arange(len(terms)) + np.cumsum(old)[terms]
            merged_rows = np.empty(len(to_old) + len(to_new), np.int32)
            merged_rows[to_old], merged_rows[to_new] = self._post_rows, rows
            merged_tf = np.empty(len(merged_rows), np.float32)
            merged_tf[to_old], merged_tf[to_new] = self._post_tf, tf
            rows, tf, new = merged_rows, merged_tf, new + old
        self._indptr = np.zeros(size + 1, np.int64)
        np.cumsum(new, out=self._indptr[1:])
        self._post_rows, self._post_tf = rows, tf
        self._pending = []
        self._pending_postings = 0

    def _compact(self) -> None:
        """Drop dead rows and the terms only they held; rows and terms are renumbered."""
        self._merge()
        alive = self._alive[: self._rows]
        before = np.zeros(self._rows + 1, np.int64)  # live rows before each row
        np.cumsum(alive, out=before[1:])
        keep = alive[self._post_rows]
        size = len(self._vocab)
        held = self._df[:size] > 0
        new_term = np.cumsum(held) - 1
        post_terms = new_term[
            np.repeat(np.arange(size), np.diff(self._indptr))[keep]
        ]
        self._post_rows = before[self._post_rows[keep]].astype(np.int32)
        self._post_tf = self._post_tf[keep]
        self._vocab = {term: int(new_term[i]) for term, i in self._vocab.items() if held[i]}
        self._df = self._df[:size][held]
        self._indptr = np.zeros(len(self._df) + 1, np.int64)
        np.cumsum(np.bincount(post_terms, minlength=len(self._df)), out=self._indptr[1:])
        for found in self._groups.values():
            found.start, found.stop = int(before[found.start]), int(before[found.stop])
            found.terms = new_term[found.terms].astype(np.int32)
        self._ids = [self._ids[i] for i in np.flatnonzero(alive)]
        self._lens = self._lens[: self._rows][alive]
        self._alive = np.ones(self._live, bool)
        self._rows = self._live
        self._norm = None

    def _postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows holding term id `term` and its counts there (as float64)."""
        rows: list[np.ndarray] = []
        tfs: list[np.ndarray] = []
        if term + 1 < len(self._indptr):
            lo, hi = self._indptr[term], self._indptr[term + 1]
            rows.append(self._post_rows[lo:hi])
            tfs.append(self._post_tf[lo:hi])
        for terms, block_rows, block_tf in self._pending:
            lo, hi = terms.searchsorted(term), terms.searchsorted(term, "right")
            rows.append(block_rows[lo:hi])
            tfs.append(block_tf[lo:hi])
        return np.concatenate(rows), np.concatenate(tfs).astype(np.float64)

    def search(
        self,
        query: str,
        language: str,
        k: int,
        allowed: Callable[[str], bool] | None = None,
        expansions: Mapping[str, float] | None = None,
        term_weights: Mapping[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """The best `k` chunk ids for `query` (read as `language`), with BM25 scores.

        `expansions` adds terms the query does not hold (the same words in other
        languages), each counted at its weight; `term_weights` weighs the query's own
        terms (1 by default). Equal scores rank in the order the chunks were added;
        `k` < 1 means no limit.
        """
        weighted = dict(expansions or {})
        own = term_weights or {}
        weighted.update({t: own.get(t, 1.0) for t in analyse(query, language)})
        # Sorted: summing in set order would make the last digits of a score, and so the
        # order of near-ties, differ from one process to the next (string hashing).
        terms = sorted(weighted)
        with self._lock:
            if not self._live:
                return []
            # A merge rewrites every posting: after adding one document, its block is
            # searched as it is (one binary search per query term) until there are many.
            if (
                len(self._pending) > _MAX_PENDING_BLOCKS
                or 4 * self._pending_postings > len(self._post_rows)
            ):
                self._merge()
            if self._norm is None:
                avg = self._total / self._live
                lens = self._lens[: self._rows]
                self._norm = self.k1 * (1 - self.b + self.b * lens / (avg or 1.0))
            n, norm = self._live, self._norm
            rows_parts: list[np.ndarray] = []
            score_parts: list[np.ndarray] = []
            for term in terms:
                t = self._vocab.get(term)
                f = 0 if t is None else int(self._df[t])
                if not f:
                    continue
                idf = math.log(1 + (n - f + 0.5) / (f + 0.5))
                rows, tf = self._postings(t)
                rows_parts.append(rows)
                score_parts.append(
                    weighted[term] * idf * tf * (self.k1 + 1) / (tf + norm[rows])
                )
            if not rows_parts:
                return []
            rows = np.concatenate(rows_parts)
            weights = np.concatenate(score_parts)
            if self._live < self._rows:
                live = self._alive[rows]
                rows, weights = rows[live], weights[live]
            # Adds only append to this list and a compaction replaces it: the rows found
            # keep their ids after the lock is released.
            ids = self._ids
        # Every term of a chunk adds a positive amount: matched chunks score above zero.
        scores = np.bincount(rows, weights=weights)
        found = np.flatnonzero(scores)
        return _best(found, scores[found], ids, k if k > 0 else len(found), allowed)


def _best(
    rows: np.ndarray,
    scores: np.ndarray,
    ids: list[str],
    k: int,
    allowed: Callable[[str], bool] | None,
) -> list[tuple[str, float]]:
    """The first `k` allowed rows by falling score (rising row on ties).

    Only the head of the ranking is sorted, and longer heads only when the
    filter turns too many of it down.
    """
    out: list[tuple[str, float]] = []
    head = k if allowed is None else 4 * k
    done = 0
    while done < len(rows):
        top_rows, top_scores = rows, scores
        if head < len(rows):
            cut = np.partition(scores, len(scores) - head)[len(scores) - head]
            top = scores >= cut
            top_rows, top_scores = rows[top], scores[top]
        order = np.lexsort((top_rows, -top_scores))[:head]
        for row, score in zip(top_rows[order[done:]], top_scores[order[done:]], strict=True):
            cid = ids[row]
            if allowed is None or allowed(cid):
                out.append((cid, float(score)))
                if len(out) == k:
                    return out
        done = len(order)
        head *= 4
    return out


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """`array` with room for `size` items; the room doubles, so appends cost little."""
    if size <= len(array):
        return array
    out = np.zeros(max(size, 2 * len(array)), array.dtype)
    out[: len(array)] = array
    return out


# A term at least this share of a language's chunks hold is the documents' subject
# ("AI" in reports on AI, "heat" in a report on heat), not a topic within them.
SUBJECT_SHARE = 0.5


class TermShares:
    """Per language, how many live chunks hold each term, updated a group of chunks at a
    time. A term most chunks of a language hold is what the documents are about ("AI"
    in reports on AI), not a topic within them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._df: dict[str, Counter[str]] = {}
        self._chunks: Counter[str] = Counter()
        self._groups: dict[str, tuple[dict[str, Counter[str]], Counter[str]]] = {}

    def add(self, group: str, chunks: Iterable[tuple[str, Iterable[str]]]) -> None:
        """Count a group's chunks, each as (language, its terms)."""
        df: dict[str, Counter[str]] = {}
        sizes: Counter[str] = Counter()
        for language, terms in chunks:
            df.setdefault(language, Counter()).update(set(terms))
            sizes[language] += 1
        with self._lock:
            self._drop(group)
            self._groups[group] = (df, sizes)
            for language, counts in df.items():
                self._df.setdefault(language, Counter()).update(counts)
            self._chunks.update(sizes)

    def remove(self, group: str) -> None:
        with self._lock:
            self._drop(group)

    def _drop(self, group: str) -> None:
        df, sizes = self._groups.pop(group, ({}, Counter()))
        for language, counts in df.items():
            self._df[language].subtract(counts)
        self._chunks.subtract(sizes)

    def share(self, term: str, language: str) -> float:
        """The share of the live chunks in `language` that hold `term`."""
        with self._lock:
            chunks = self._chunks[language]
            return self._df.get(language, Counter())[term] / chunks if chunks > 0 else 0.0
