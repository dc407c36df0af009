"""Any sentence-transformers model, by hub name or local path."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from assistant.embeddings import IdentifiedEmbeddings


class SentenceTransformerEmbeddings(IdentifiedEmbeddings):
    """Wraps `sentence_transformers.SentenceTransformer`; imported on first use (~10 s)."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        query_prefix: str = "",
        passage_prefix: str = "",
        normalize: bool = True,
    ) -> None:
        if not model:
            raise ValueError("a sentence-transformers model name or path is required")
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.normalize = normalize
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        # A local path is named by its folder, so moving the model keeps the index valid.
        path = Path(self.model_name).expanduser()
        name = path.name if path.exists() else self.model_name
        return f"sentence-transformers/{name}"

    def _engine(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = Path(self.model_name).expanduser()
            source = str(path) if path.exists() else self.model_name
            self._model = SentenceTransformer(source, device=self.device)
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._engine().encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode([self.passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self.query_prefix + text])[0]
