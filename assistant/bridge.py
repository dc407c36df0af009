"""Links between the words of the indexed documents across languages, learnt from them.

A Dutch question about "aanbevelingen" should find a Spanish passage about
"recomendaciones". No word list says so: the bridge takes the content words
of the indexed documents (per language, as analysed for lexical search),
embeds each word once with the multilingual embedder, and links a question
word to the word of another language that is its mutual nearest neighbour
(each is the other's closest word) with a similarity above a threshold.
Mutual neighbours guard against hub words that are close to everything.

The vocabulary follows the live documents (added and removed with the
lexical index), each word's vector is computed once and kept in a cache file
beside the index, so a restart embeds nothing new.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.lexical import LexicalDoc, analysed_counts, analysed_words

MIN_WORD_CHARS = 4
# Words this long are what a question is about rather than how it asks.
MIN_UNKNOWN_CHARS = 7
# A run of letters longer than this is not a word (a file without spaces).
MAX_WORD_CHARS = 30
# The words linked per language: the ones most chunks hold. This bounds the words
# embedded and the time a question spends on links, whatever the documents hold.
MAX_LINKED_WORDS = 4000
# And at most this many of each document: its most frequent words. One odd document
# (a file of random words) cannot make the next question embed a vocabulary without end.
MAX_WORDS_PER_DOCUMENT = 2000
EMBED_BATCH = 256
# Candidates re-ranked per word, and the neighbourhood size of the hub correction.
CANDIDATES = 10
NEIGHBOURS = 10
# How much a shared spelling (cognates: "strategie", "estrategia", "strategy") adds.
SPELLING_WEIGHT = 0.1


def _trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _spelling(a: str, b: str) -> float:
    """Dice overlap of the two words' letter trigrams, 0..1."""
    ta, tb = _trigrams(a), _trigrams(b)
    return 2 * len(ta & tb) / (len(ta) + len(tb)) if ta and tb else 0.0


def content_words(text: str, language: str) -> list[tuple[str, str]]:
    """(term, word) pairs worth linking: words of at least four letters, no numbers."""
    return [(term, word) for term, word in analysed_words(text, language) if _linkable(word)]


def _linkable(word: str) -> bool:
    return MIN_WORD_CHARS <= len(word) <= MAX_WORD_CHARS and word.isalpha()


def _hubness(vocab: _Vocabulary, row: int, other: _Vocabulary, other_matrix: np.ndarray) -> float:
    """Mean similarity of `vocab`'s word `row` to its nearest words in `other`, kept."""
    key = id(other)
    cache = vocab.hubness.setdefault(str(key), {})
    if row not in cache:
        assert vocab.matrix is not None
        sims = np.einsum("ij,j->i", other_matrix, vocab.matrix[row])
        cache[row] = float(np.sort(sims)[-NEIGHBOURS:].mean())
    return cache[row]


@dataclass
class _Vocabulary:
    """One language's linkable terms: how many live chunks hold each, and a word for it."""

    counts: Counter[str] = field(default_factory=Counter)
    words: dict[str, str] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)  # rows of `matrix`
    matrix: np.ndarray | None = None  # None: rebuild before the next lookup
    # Per other language: row -> mean similarity to its nearest words there (CSLS's r).
    hubness: dict[str, dict[int, float]] = field(default_factory=dict)


class TermBridge:
    """Cross-lingual links between index terms by mutual nearest neighbours."""

    def __init__(
        self, embedder: Embeddings, min_similarity: float, cache_file: Path | None = None
    ) -> None:
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.cache_file = cache_file
        self._lock = threading.RLock()
        self._vocab: dict[str, _Vocabulary] = {}
        self._groups: dict[str, list[tuple[str, Counter[str]]]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded = False
        self._unsaved = 0
        self._recent: dict[tuple[str, str], dict[str, dict[str, str]]] = {}

    # -- vocabulary -------------------------------------------------------------------

    def add(self, group: str, docs: Iterable[LexicalDoc]) -> None:
        """Add the words of a group of chunks (one document version)."""
        self.add_counted(group, [(d.language, analysed_counts(d.text, d.language)) for d in docs])

    def add_counted(
        self, group: str, analysed: Sequence[tuple[str, Counter[tuple[str, str]]]]
    ) -> None:
        """`add` for chunks already analysed: (language, `analysed_counts`) per chunk."""
        per_language: dict[str, Counter[str]] = {}
        words: dict[tuple[str, str], str] = {}
        for language, counted in analysed:
            pairs = [(t, w) for t, w in counted if _linkable(w)]
            per_language.setdefault(language, Counter()).update({t for t, _ in pairs})
            for term, word in pairs:
                words.setdefault((language, term), word)
        for language, counts in per_language.items():
            if len(counts) > MAX_WORDS_PER_DOCUMENT:
                per_language[language] = Counter(dict(counts.most_common(MAX_WORDS_PER_DOCUMENT)))
        with self._lock:
            self._groups[group] = list(per_language.items())
            for language, counts in per_language.items():
                vocab = self._vocab.setdefault(language, _Vocabulary())
                new = [t for t in counts if t not in vocab.counts]
                vocab.counts.update(counts)
                for term in new:
                    vocab.words[term] = words[(language, term)]
                if new:
                    vocab.matrix = None
            self._recent.clear()

    def remove(self, group: str) -> None:
        with self._lock:
            for language, counts in self._groups.pop(group, []):
                vocab = self._vocab[language]
                vocab.counts.subtract(counts)
                for term in [t for t in counts if vocab.counts[t] <= 0]:
                    del vocab.counts[term]
                    vocab.words.pop(term, None)
                vocab.matrix = None
            self._recent.clear()

    def unknown(self, text: str, language: str) -> list[str]:
        """The longer words of `text` (the nouns a question is about, not its verbs)
        that no indexed document holds, in any language, and that link to none of
        their words."""
        pairs = {t: w for t, w in content_words(text, language) if len(w) >= MIN_UNKNOWN_CHARS}
        with self._lock:
            missing = [
                word for term, word in pairs.items()
                if not any(term in v.counts for v in self._vocab.values())
            ]
        if not missing:
            return []
        links = self.links(text, language)
        return [w for t, w in pairs.items() if w in missing and t not in links]

    def groups(self) -> set[str]:
        with self._lock:
            return set(self._groups)

    def size(self) -> dict[str, int]:
        with self._lock:
            return {lang: len(v.counts) for lang, v in self._vocab.items()}

    # -- vectors ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Embed every vocabulary word not seen before (ingest and start-up call this, so
        that questions find the vectors ready)."""
        with self._lock:
            for vocab in self._vocab.values():
                self._matrix(vocab)
            self._save()

    def _vectors_for(self, words: Sequence[str]) -> list[np.ndarray]:
        self._load()
        missing = sorted({w for w in words if w not in self._vectors})
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = np.asarray(self.embedder.embed_documents(batch), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-9)
            self._vectors.update(zip(batch, vectors, strict=True))
            self._unsaved += len(batch)
        return [self._vectors[w] for w in words]

    def _matrix(self, vocab: _Vocabulary) -> np.ndarray:
        if vocab.matrix is None:
            vocab.hubness = {}
            for other in self._vocab.values():
                other.hubness = {}
            if len(vocab.counts) > MAX_LINKED_WORDS:
                common = sorted(vocab.counts.items(), key=lambda kv: (-kv[1], kv[0]))
                vocab.terms = sorted(t for t, _ in common[:MAX_LINKED_WORDS])
            else:
                vocab.terms = sorted(vocab.counts)
            rows = self._vectors_for([vocab.words[t] for t in vocab.terms])
            vocab.matrix = (
                np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
            )
        return vocab.matrix

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.cache_file is None or not self.cache_file.exists():
            return
        try:
            with np.load(self.cache_file, allow_pickle=False) as data:
                self._vectors.update(zip(data["words"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            # A damaged cache only costs the time to embed the words again.
            self._vectors.clear()

    def _save(self) -> None:
        if self.cache_file is None or not self._unsaved:
            return
        words = sorted(self._vectors)
        tmp = self.cache_file.with_name(f".{self.cache_file.name}.{os.getpid()}.tmp")
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as out:
                np.savez(out, words=np.asarray(words),
                         vectors=np.vstack([self._vectors[w] for w in words]))
            os.replace(tmp, self.cache_file)
            self._unsaved = 0
        except OSError:
            # A read-only or full data folder: the links still work, from memory.
            tmp.unlink(missing_ok=True)

    # -- links ------------------------------------------------------------------------

    def links(self, text: str, language: str) -> dict[str, dict[str, str]]:
        """For each linkable term of `text` (read as `language`): its partner term in each
        other language of the index, where there is one."""
        pairs = list(dict(content_words(text, language)).items())
        if not pairs:
            return {}
        with self._lock:
            # Retrieval and the answerer ask for the same question's links in turn.
            remembered = self._recent.get((text, language))
            if remembered is not None:
                return remembered
            others = {lang: v for lang, v in self._vocab.items() if lang != language and v.counts}
            own = self._vocab.get(language)
            if not others or own is None or not own.counts:
                return {}
            own_matrix = self._matrix(own)
            query = self._vectors_for([w for _, w in pairs])
            out: dict[str, dict[str, str]] = {}
            for (term, word), vector in zip(pairs, query, strict=True):
                for other_lang, vocab in others.items():
                    partner = self._partner(term, word, vector, own, own_matrix, vocab)
                    if partner is not None:
                        out.setdefault(term, {})[other_lang] = partner
            self._save()
            if len(self._recent) > 256:
                self._recent.clear()
            self._recent[(text, language)] = out
            return out

    def _partner(
        self, term: str, word: str, vector: np.ndarray, own: _Vocabulary,
        own_matrix: np.ndarray, vocab: _Vocabulary,
    ) -> str | None:
        """`term`'s partner in `vocab`: the best candidate by hub-corrected similarity
        (CSLS) plus a bonus for a shared spelling, if `term` is that candidate's best
        match back and the score clears the threshold."""
        matrix = self._matrix(vocab)
        if not len(vocab.terms):
            return None
        sims = np.einsum("ij,j->i", matrix, vector)
        candidates = np.argsort(-sims)[:CANDIDATES]
        # CSLS (Conneau et al., 2018): a word close to everything ("hub") is discounted
        # by its mean similarity to its nearest neighbours on the other side.
        r_query = float(np.sort(sims)[-NEIGHBOURS:].mean())
        best, best_score = -1, -np.inf
        for j in candidates:
            r_candidate = _hubness(vocab, int(j), own, own_matrix)
            score = (2 * sims[j] - r_query - r_candidate
                     + SPELLING_WEIGHT * _spelling(word, vocab.words[vocab.terms[j]]))
            if score > best_score:
                best, best_score = int(j), score
        if best < 0 or best_score < self.min_similarity or vocab.terms[best] == term:
            return None
        # Mutual: among the question language's words closest to the partner, the
        # question's own word scores best.
        back = np.einsum("ij,j->i", own_matrix, matrix[best])
        r_partner = _hubness(vocab, best, own, own_matrix)
        partner_word = vocab.words[vocab.terms[best]]
        for k in np.argsort(-back)[:CANDIDATES]:
            if own.terms[k] == term:
                continue
            rival_score = (2 * back[k] - r_partner - _hubness(own, int(k), vocab, matrix)
                           + SPELLING_WEIGHT * _spelling(own.words[own.terms[k]], partner_word))
            if rival_score > best_score:
                return None
        return vocab.terms[best]

    def expansions(self, text: str, language: str, weight: float) -> dict[str, float]:
        """The partner terms of `text`'s terms, each with `weight`, for lexical search."""
        found: dict[str, float] = {}
        for partners in self.links(text, language).values():
            for term in partners.values():
                found[term] = weight
        return found
