"""Shared fixtures: a real Chroma index of the sample corpus, built once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.embeddings import make_embedder
from assistant.store import ChunkStore
from ingest.pipeline import Indexer, IngestReport

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS_PDFS = sorted(CORPUS.glob("*.pdf"))
# The second sample corpus, on another subject: it keeps the answer path honest.
HEAT_CORPUS = CORPUS / "heat-health-2024"


def make_indexer(settings: Settings) -> Indexer:
    embedder = make_embedder(settings)
    return Indexer(settings, ChunkStore.open(settings, embedder.identity), embedder)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.load({"data_dir": tmp_path_factory.mktemp("corpus-index")}, environ={})


@pytest.fixture(scope="session")
def corpus_report(corpus_settings: Settings) -> IngestReport:
    report = make_indexer(corpus_settings).ingest(CORPUS_PDFS)
    assert report.ok, [o.describe() for o in report.outcomes]
    return report


@pytest.fixture(scope="session")
def corpus_assistant(corpus_settings: Settings, corpus_report: IngestReport) -> Assistant:
    return Assistant(corpus_settings)


@pytest.fixture(scope="session")
def heat_assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    settings = Settings.load({"data_dir": tmp_path_factory.mktemp("heat-index")}, environ={})
    report = make_indexer(settings).ingest(sorted(HEAT_CORPUS.glob("*.pdf")))
    assert report.ok, [o.describe() for o in report.outcomes]
    return Assistant(settings)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load({"data_dir": tmp_path / "data"}, environ={})
