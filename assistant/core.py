"""The Python API: `Assistant(settings).ask(question) -> CitedAnswer`."""

from __future__ import annotations

import atexit
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.answer import CitedAnswer, History, final_answer
from assistant.embeddings import IdentifiedEmbeddings, make_embedder
from assistant.extractive import ExtractiveAnswerer
from assistant.generation.local import LocalModel
from assistant.language import SUPPORTED, answer_language, detect_language
from assistant.messages import text
from assistant.retrieval import HybridRetriever, RetrievalFilter
from assistant.settings import Settings
from assistant.store import ChunkStore, DocumentRecord, SearchHit

if TYPE_CHECKING:
    # LangChain's chat-model stack costs a second to import; only generation needs it.
    from langchain_core.language_models.chat_models import BaseChatModel

    from assistant.generation.chain import GeneratedAnswerer
    from assistant.generation.translate import TranslatedAnswerer

MAX_QUESTION_CHARS = 2000
# Settings that only change how answers are written; assistants differing only in
# these share one retriever (and its lexical index).
_ANSWER_SETTINGS = frozenset(
    {"generator", "llm_model", "llm_model_path", "llm_base_url", "llm_api_key",
     "llm_temperature", "llm_max_tokens", "llm_context", "llm_timeout", "llm_threads",
     "llm_answer_seconds",
     "llm_build", "llm_passages", "llm_style"}
)
PROBE_RETRY_SECONDS = 30.0
log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidQuestionError(ValueError):
    """The question cannot be asked as given; the message says why, in its language."""


@dataclass(frozen=True)
class Watcher:
    """The background thread that keeps an assistant current with the store."""

    thread: threading.Thread
    event: threading.Event

    def stop(self, timeout: float = 30.0) -> None:
        self.event.set()
        self.thread.join(timeout)


class Assistant:
    """Answers questions from the indexed documents, with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: IdentifiedEmbeddings | None = None,
        store: ChunkStore | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings or Settings.load()
        self.embedder = embedder or make_embedder(self.settings)
        self._store = store
        self._opening = threading.RLock()
        self._retriever: HybridRetriever | None = None
        # A chat model given here is used whatever `settings.generator` says.
        self._model: BaseChatModel | None = chat_model
        self._model_failure: tuple[float, str] | None = None  # (when, why)
        # generator "auto": the local model, made ready in the background (`start_local`).
        self.local = LocalModel(self.settings)

    def with_settings(self, **changes: object) -> Assistant:
        """Another assistant on the same index (store and embedder), e.g. with another
        generator. The web UI keeps one per generator choice."""
        other = Assistant(self.settings.replace(**changes), embedder=self.embedder,
                          store=self.store)
        if set(changes) <= _ANSWER_SETTINGS:
            other._retriever = self.retriever
        return other

    @property
    def store(self) -> ChunkStore:
        # Opened on first use so that `--help` and argument errors stay instant; once, when
        # threads ask at the same time (the web app's watcher and its first page).
        if self._store is None:
            with self._opening:
                if self._store is None:
                    self._store = ChunkStore.open(self.settings, self.embedder.identity)
        return self._store

    @property
    def retriever(self) -> HybridRetriever:
        # One retriever per assistant: it caches the lexical index between questions.
        if self._retriever is None:
            with self._opening:
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
        history: History | None = None,
    ) -> CitedAnswer:
        """Answer a question; `history` holds earlier (question, answer) pairs of the chat."""
        return final_answer(self.stream(question, language, filters, history))

    def stream(
        self,
        question: str,
        language: str | None = None,
        filters: RetrievalFilter | None = None,
        history: History | None = None,
    ) -> Iterator[str | CitedAnswer]:
        """Yields pieces of the answer text as a model writes them, then the `CitedAnswer`.

        The extractive answerer yields only the final answer.
        """
        started = time.monotonic()
        cleaned, lang = self.clean_question(question, language)
        if not self.store.live().records:
            yield CitedAnswer(text(lang, "no_documents"), lang, [], found=False)
            return
        model, note = self._chat_model(lang)
        standalone = cleaned
        if history:
            from assistant.generation.chain import standalone_question

            standalone = standalone_question(cleaned, history, lang, model)
        vector, hits = self.retrieve(standalone, self.settings.top_k, filters, language)
        if model is None:
            answer = self._extractive().answer(standalone, lang, vector, hits)
            yield answer.with_note(note) if note else answer
            return
        yield from self._generated(model, started).stream(standalone, lang, vector, hits)

    def answer_from(
        self, question: str, language: str, vector: list[float], hits: list[SearchHit]
    ) -> CitedAnswer:
        """Answer from passages already retrieved (the evaluation reuses its retrieval)."""
        started = time.monotonic()
        hits = hits[: self.settings.top_k]
        model, note = self._chat_model(language)
        if model is None:
            answer = self._extractive().answer(question, language, vector, hits)
            return answer.with_note(note) if note else answer
        return self._generated(model, started).answer(question, language, vector, hits)

    def _extractive(self) -> ExtractiveAnswerer:
        live = self.store.live()
        return ExtractiveAnswerer(
            self.embedder,
            self.settings.min_relevance,
            self.settings.answer_sentences,
            self.settings.min_sentence_relevance,
            bridge=self.retriever.bridge,
            # The live snapshot retrieval searched holds every live chunk: broad questions
            # read their documents' sections from it, not from the store again.
            section_chunks=live.document_chunks,
            next_chunk=self.store.next_chunk,
            min_term_coverage=self.settings.min_term_coverage,
            term_share=self.retriever.current_term_shares().share,
            chunk_vector=live.vector,
        )

    def _generated(
        self, model: BaseChatModel, started: float
    ) -> GeneratedAnswerer | TranslatedAnswerer:
        """The model's answerer for a question asked at `started` (`time.monotonic()`)."""
        from assistant.generation.chain import GeneratedAnswerer
        from assistant.generation.translate import TranslatedAnswerer

        if self.settings.answer_style == "translate":
            seconds = self.settings.llm_answer_seconds
            return TranslatedAnswerer(model, self.generator_name, self._extractive(),
                                      self.embedder, started + seconds if seconds > 0 else None)
        return GeneratedAnswerer(model, self.generator_name, self.embedder, self._extractive(),
                                 self.settings.llm_passages)

    @property
    def generator_name(self) -> str:
        """What writes a model's answers, as the answers name it."""
        return {"extractive": "custom", "auto": "llamacpp"}.get(
            self.settings.generator, self.settings.generator
        )

    def _chat_model(self, language: str) -> tuple[BaseChatModel | None, str]:
        """The configured chat model, or None with the reason it cannot be used.

        A failed probe is remembered for `PROBE_RETRY_SECONDS`, so a chat with
        the model server down does not wait for the probe on every question.
        """
        if self._model is not None:
            return self._model, ""
        if self.settings.generator == "extractive":
            return None, ""
        if self.settings.generator == "auto":
            # Quotes until the local model is ready; its status line says how far it is.
            return self.local.chat_model(), ""
        from assistant.generation import GeneratorUnavailableError, check_reachable, make_chat_model

        now = time.monotonic()
        if self._model_failure and now - self._model_failure[0] < PROBE_RETRY_SECONDS:
            return None, text(language, "generator_failed", reason=self._model_failure[1])
        try:
            check_reachable(self.settings)
            self._model = make_chat_model(self.settings)
        except GeneratorUnavailableError as err:
            self._model_failure = (now, str(err))
            return None, text(language, "generator_failed", reason=str(err))
        self._model_failure = None
        return self._model, ""

    def summarize(
        self, document: str, section: str | None = None, language: str | None = None
    ) -> CitedAnswer:
        """Summary of a document, or of one section (by number or name, in any of the
        three languages), in `language` (default: the document's), with citations."""
        from assistant.summarize import choose, extractive_summary, generated_summary

        lang = answer_language("", language) if language else None
        probe_lang = lang or "en"
        choice = choose(self, document, section, probe_lang)
        lang = lang or (choice.document.language if choice.document.language in SUPPORTED else "en")
        if self._model is None and self.settings.generator == "extractive":
            return extractive_summary(self, choice, lang)
        return generated_summary(self, choice, lang)

    def start_local(self) -> None:
        """With generator "auto": get the local model ready in a background thread."""
        self.local.start()

    def documents(self) -> list[DocumentRecord]:
        return self.store.listed_documents()

    def warm_up(self) -> None:
        """Load the embedder, the live documents and the lexical index now, so that the
        first question does not wait for them (about 1 s per 1,000 chunks)."""
        self.embedder.embed_query("warm-up")
        self.retriever.warm_up()

    def keep_current(self, interval: float, stop: threading.Event) -> None:
        """Warm up, then until `stop` is set take in what other processes index or delete,
        checking every `interval` seconds (one small read of the store each time)."""
        seen: str | None = None
        warm = False
        while True:
            try:
                generation = self.store.generation()
                if not warm or generation is None or generation != seen:
                    if warm:
                        # The embedder is loaded: a change only touches the index.
                        self.retriever.warm_up()
                    else:
                        self.warm_up()
                    warm, seen = True, generation
            except Exception as err:  # noqa: BLE001 - the next question reports it properly
                log.warning("could not load the indexed documents: %s", err)
            if interval <= 0 or stop.wait(interval):
                return

    def watch(self, interval: float) -> Watcher:
        """Run `keep_current` in a background thread until the watcher is stopped.

        It is also stopped, and waited for, at exit: a daemon thread left inside a
        store call while the interpreter tears the store's native client down can
        crash the process on its way out.
        """
        stop = threading.Event()
        thread = threading.Thread(target=self.keep_current, args=(interval, stop),
                                  name="keep-current", daemon=True)
        watcher = Watcher(thread, stop)
        thread.start()
        atexit.register(watcher.stop)
        return watcher

    def outline(self, doc_id: str) -> list[str]:
        """The section paths of a document, in document order ("4. X > 4.1 Y")."""
        from assistant.summarize import outline

        return outline(self.store.document_chunks(doc_id))

    def delete_document(self, doc_id: str) -> bool:
        return self.store.delete_document(doc_id)

