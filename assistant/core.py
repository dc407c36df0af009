"""The Python API: `Assistant(settings).ask(question) -> CitedAnswer`."""

from __future__ import annotations

import re

from assistant.answer import CitedAnswer
from assistant.embeddings import IdentifiedEmbeddings, make_embedder
from assistant.extractive import ExtractiveAnswerer
from assistant.language import answer_language
from assistant.messages import text
from assistant.retrieval import DenseRetriever, RetrievalFilter
from assistant.settings import Settings
from assistant.store import ChunkStore, DocumentRecord

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

    @property
    def store(self) -> ChunkStore:
        # Opened on first use so that `--help` and argument errors stay instant.
        if self._store is None:
            self._store = ChunkStore.open(self.settings, self.embedder.identity)
        return self._store

    def ask(
        self,
        question: str,
        language: str | None = None,
        filters: RetrievalFilter | None = None,
    ) -> CitedAnswer:
        cleaned = " ".join(_CONTROL.sub(" ", question or "").split())
        lang = answer_language(cleaned, language)
        if not cleaned:
            raise InvalidQuestionError(text(lang, "empty_question"))
        if len(cleaned) > MAX_QUESTION_CHARS:
            raise InvalidQuestionError(
                text(lang, "question_too_long", length=len(cleaned), limit=MAX_QUESTION_CHARS)
            )
        if not self.store.live_doc_ids():
            return CitedAnswer(text(lang, "no_documents"), lang, [], found=False)
        retriever = DenseRetriever(self.store, self.embedder)
        vector, hits = retriever.retrieve(cleaned, self.settings.top_k, filters)
        answerer = ExtractiveAnswerer(
            self.embedder, self.settings.min_relevance, self.settings.answer_sentences
        )
        return answerer.answer(cleaned, lang, vector, hits)

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def delete_document(self, doc_id: str) -> bool:
        return self.store.delete_document(doc_id)
