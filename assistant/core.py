"""The Python API: `Assistant(settings).ask(question) -> CitedAnswer`."""

from __future__ import annotations

import re

from assistant.answer import CitedAnswer
from assistant.embeddings import IdentifiedEmbeddings, make_embedder
from assistant.extractive import ExtractiveAnswerer
from assistant.language import answer_language, detect_language
from assistant.messages import text
from assistant.retrieval import HybridRetriever, RetrievalFilter
from assistant.settings import Settings
from assistant.store import ChunkStore, DocumentRecord, SearchHit

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidQuestionError(ValueError):
    """The question cannot be asked as given; the message says why, in its language."""


class Assistant:
    """Answers questions from the indexed documents, with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: IdentifiedEmbeddings | None = None,
        store: ChunkStore | None = None,
    ) -> None:
        self.settings = settings or Settings.load()
        self.embedder = embedder or make_embedder(self.settings)
        self._store = store
        self._retriever: HybridRetriever | None = None

    @property
    def store(self) -> ChunkStore:
        # Opened on first use so that `--help` and argument errors stay instant.
        if self._store is None:
            self._store = ChunkStore.open(self.settings, self.embedder.identity)
        return self._store

    @property
    def retriever(self) -> HybridRetriever:
        # One retriever per assistant: it caches the lexical index between questions.
        if self._retriever is None:
            self._retriever = HybridRetriever(self.store, self.embedder, self.settings)
        return self._retriever

    def clean_question(self, question: str, language: str | None = None) -> tuple[str, str]:
        """(question without control characters, answer language); raises if unusable."""
        cleaned = " ".join(_CONTROL.sub(" ", question or "").split())
        lang = answer_language(cleaned, language)
        if not cleaned:
            raise InvalidQuestionError(text(lang, "empty_question"))
        if len(cleaned) > MAX_QUESTION_CHARS:
            raise InvalidQuestionError(
                text(lang, "question_too_long", length=len(cleaned), limit=MAX_QUESTION_CHARS)
            )
        return cleaned, lang

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: RetrievalFilter | None = None,
        language: str | None = None,
    ) -> tuple[list[float], list[SearchHit]]:
        """The passages for a question, best first (vector of the question, hits)."""
        cleaned, lang = self.clean_question(question, language)
        return self.retriever.retrieve(
            cleaned, k or self.settings.top_k, detect_language(cleaned, lang), filters
        )

    def ask(
        self,
        question: str,
        language: str | None = None,
        filters: RetrievalFilter | None = None,
    ) -> CitedAnswer:
        cleaned, lang = self.clean_question(question, language)
        if not self.store.live_doc_ids():
            return CitedAnswer(text(lang, "no_documents"), lang, [], found=False)
        vector, hits = self.retrieve(cleaned, self.settings.top_k, filters, language)
        return self.answer_from(cleaned, lang, vector, hits)

    def answer_from(
        self, question: str, language: str, vector: list[float], hits: list[SearchHit]
    ) -> CitedAnswer:
        """Answer from passages already retrieved (the evaluation reuses its retrieval)."""
        answerer = ExtractiveAnswerer(
            self.embedder,
            self.settings.min_relevance,
            self.settings.answer_sentences,
            self.settings.min_sentence_relevance,
        )
        return answerer.answer(question, language, vector, hits[: self.settings.top_k])

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def delete_document(self, doc_id: str) -> bool:
        return self.store.delete_document(doc_id)
