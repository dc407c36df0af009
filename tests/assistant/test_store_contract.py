"""One contract for the chunk store, run against both Chroma modes.

Every test below runs twice: on an embedded index (a folder in data_dir) and on a
real `chroma run` server, each server test in a database of its own. CI starts the
server and names it in ASSISTANT_TEST_CHROMA_URL; without that variable the tests
start one themselves. They fail, never skip, when no server can be had.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.cli import _settings, build_parser, main
from assistant.embeddings import make_embedder
from assistant.store import (
    ChromaServerUnavailableError,
    ChunkStore,
    DocumentRecord,
    EmbedderMismatchError,
    StoredChunk,
)
from ingest.pipeline import Indexer
from tests.support.chroma_server import (
    URL_VARIABLE,
    ChromaServer,
    TokenProxy,
    chroma_run,
    free_port,
    server_from_url,
    wait_until_answers,
)

CORPUS_PDF = Path(__file__).resolve().parents[2] / "corpus" / "ilia-2025-nl.pdf"
QUERY = [1.0, 0.1, 0.5]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    url = os.environ.get(URL_VARIABLE)
    if url:
        server = server_from_url(url)
        wait_until_answers(server)
        yield server
        return
    with chroma_run(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture(scope="session")
def chroma_admin(chroma_server: ChromaServer) -> Any:
    return chroma_server.admin()


def server_settings(base: Settings, server: ChromaServer, **changes: Any) -> Settings:
    # A database per test: the server outlives the test, its state must not leak.
    return base.replace(
        chroma_mode="server", chroma_host=server.host, chroma_port=server.port,
        chroma_ssl=server.ssl, chroma_database=f"contract-{uuid.uuid4().hex}", **changes,
    )


def drop_database(admin: Any, settings: Settings) -> None:
    from chromadb.errors import NotFoundError

    # NotFoundError: the test never opened a store, so the database was never made.
    with contextlib.suppress(NotFoundError):
        admin.delete_database(settings.chroma_database)


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    base = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    if request.param == "embedded":
        yield base
        return
    # Looked up here, not declared, so that embedded-only runs start no server.
    server = request.getfixturevalue("chroma_server")
    admin = request.getfixturevalue("chroma_admin")
    settings = server_settings(base, server)
    yield settings
    drop_database(admin, settings)


def record(doc_id: str, source: str = "/r/a.pdf", chunks: int = 2, title: str = "T",
           language: str = "en") -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id, source=source, file_name=source.rsplit("/", 1)[-1], title=title,
        language=language, format="pdf", pages=1, chunks=chunks,
        indexed_at="2025-10-20T00:00:00",
    )


def chunks(doc_id: str, n: int = 2, vec: float = 1.0, language: str = "en",
           text: str = "text") -> list[StoredChunk]:
    return [
        StoredChunk(
            f"{doc_id}:{i}", f"{text} {doc_id} {i}", [vec, float(i) + 0.1, 0.5],
            {"doc_id": doc_id, "language": language, "page": i + 1, "section": "1. A",
             "chunk_index": i},
        )
        for i in range(n)
    ]


def write_unlisted(store: ChunkStore, doc_id: str, replaces: str = "", n: int = 2) -> None:
    """What an interrupted write leaves: a pending record and chunks no manifest names."""
    store._manifest.upsert(  # noqa: SLF001
        ids=[f"pending:{doc_id}"], embeddings=[[1.0]],
        metadatas=[{"doc_id": doc_id, "replaces": replaces}],
    )
    part = chunks(doc_id, n)
    store._chunks.add(  # noqa: SLF001
        ids=[c.chunk_id for c in part], documents=[c.text for c in part],
        embeddings=[c.embedding for c in part], metadatas=[c.metadata for c in part],
    )


def doc_ids(hits: list[Any]) -> set[str]:
    return {h.metadata["doc_id"] for h in hits}


def test_replace_document_flips_to_the_new_version(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "m")
    store.replace_document(record("v1"), chunks("v1"))
    assert store.live_doc_ids() == ["v1"]
    store.replace_document(record("v2", chunks=3), chunks("v2", 3))
    assert [d.doc_id for d in store.documents()] == ["v2"]
    assert store.chunk_count("v1") == 0 and store.chunk_count("v2") == 3
    assert store.chunk_count() == 3
    assert doc_ids(store.search(QUERY, 10)) == {"v2"}
    # Only the live record (and the generation marker) is left in the manifest: no
    # pending record survives a write.
    assert sorted(store._manifest.get()["ids"]) == ["generation", record("v2").key]  # noqa: SLF001
    # A write that stops before the flip leaves the old version live and whole.
    write_unlisted(store, "v3", n=4)
    assert [d.doc_id for d in store.documents()] == ["v2"]
    assert doc_ids(store.search(QUERY, 10)) == {"v2"}
    assert {h.chunk_id for h in store.live_chunks()} == {"v2:0", "v2:1", "v2:2"}


def test_documents_are_listed_sorted_and_found_by_source(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "m")
    assert store.documents() == [] and store.find_by_source("/r/a.pdf") is None
    beta = record("b", "/r/b.pdf", title="Beta", language="es")
    alpha = record("a", "/r/a.pdf", title="alpha")
    store.replace_document(beta, chunks("b", language="es"))
    store.replace_document(alpha, chunks("a"))
    # Records come back exactly as written (types included), ordered by title.
    assert store.documents() == [alpha, beta]
    assert store.find_by_source("/r/b.pdf") == beta
    assert store.find_by_source("/r/none.pdf") is None
    assert store.find_by_doc_id("a") == alpha and store.find_by_doc_id("zzz") is None
    assert store.live_languages() == ["en", "es"]
    assert store.live_doc_ids() == ["a", "b"]


def test_search_filters_by_metadata_and_sees_only_live_documents(
    store_settings: Settings,
) -> None:
    store = ChunkStore.open(store_settings, "m")
    assert store.search(QUERY, 10) == []
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    store.replace_document(record("b", "/r/b.pdf", language="es"), chunks("b", language="es"))
    write_unlisted(store, "ghost")
    hits = store.search(QUERY, 10)
    assert doc_ids(hits) == {"a", "b"} and len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)  # the query is a stored vector
    assert doc_ids(store.search(QUERY, 10, {"doc_id": "b"})) == {"b"}
    assert doc_ids(store.search(QUERY, 10, {"language": "es"})) == {"b"}
    two = store.search(QUERY, 10, {"language": "en", "page": 2})
    assert [h.chunk_id for h in two] == ["a:1"]
    assert store.search(QUERY, 10, {"doc_id": "ghost"}) == []
    assert store.search(QUERY, 0) == []
    assert len(store.search(QUERY, 1)) == 1


def test_live_chunks_and_embeddings_come_back_as_written(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "m")
    assert store.live_chunks() == []
    written = chunks("a", 3)
    store.replace_document(record("a", chunks=3), written)
    write_unlisted(store, "ghost")
    live = {h.chunk_id: h for h in store.live_chunks()}
    assert set(live) == {c.chunk_id for c in written}
    for c in written:
        assert live[c.chunk_id].text == c.text
        assert live[c.chunk_id].metadata == c.metadata
        assert live[c.chunk_id].score == 0.0
    vectors = store.embeddings([c.chunk_id for c in written])
    for c in written:
        assert vectors[c.chunk_id] == pytest.approx(c.embedding, abs=1e-6)
    assert store.embeddings([]) == {}
    hit = store.search(QUERY, 1)[0]
    assert list(hit.embedding) == pytest.approx(vectors[hit.chunk_id], abs=1e-6)


def test_delete_document_removes_every_chunk(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "m")
    store.replace_document(record("a", "/r/a.pdf", chunks=5), chunks("a", 5))
    store.replace_document(record("b", "/r/b.pdf"), chunks("b"))
    assert store.delete_document("a")
    assert store.chunk_count("a") == 0 and store.chunk_count() == 2
    assert [d.doc_id for d in store.documents()] == ["b"]
    assert doc_ids(store.search(QUERY, 10)) == {"b"}
    assert not store.delete_document("a")
    assert store.delete_document("b")
    assert store.documents() == [] and store.chunk_count() == 0


def test_recover_removes_the_orphans_a_pending_record_names(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "m")
    assert store.recover() == 0
    store.replace_document(record("v1"), chunks("v1"))
    # Crash after the flip but before the old chunks were deleted ...
    write_unlisted(store, "v2", replaces="v1", n=3)
    store._manifest.upsert(  # noqa: SLF001
        ids=[record("v2").key], embeddings=[[1.0]], metadatas=[asdict(record("v2", chunks=3))]
    )
    # ... and another one before the flip of a second file.
    write_unlisted(store, "ghost")
    assert store.live_doc_ids() == ["v2"]
    marker = store.generation()
    assert store.recover() == 4  # two chunks of v1, two of ghost
    assert store.chunk_count() == 3 and store.chunk_count("v2") == 3
    assert sorted(store._manifest.get()["ids"]) == ["generation", record("v2").key]  # noqa: SLF001
    # The killed writer never changed the marker after its flip: recovery does, so that
    # readers in other processes load v2.
    assert store.generation() != marker
    marker = store.generation()
    assert store.recover() == 0 and store.generation() == marker


def test_another_embedder_is_refused_until_a_rebuild(store_settings: Settings) -> None:
    store = ChunkStore.open(store_settings, "model-a")
    store.replace_document(record("a"), chunks("a"))
    with pytest.raises(EmbedderMismatchError) as err:
        ChunkStore.open(store_settings, "model-b")
    message = str(err.value)
    assert "model-a" in message and "model-b" in message and "--rebuild" in message
    rebuilt = ChunkStore.rebuild(store_settings, "model-b")
    assert rebuilt.embedder_id == "model-b"
    assert rebuilt.documents() == [] and rebuilt.chunk_count() == 0
    assert ChunkStore.open(store_settings, "model-b").documents() == []
    with pytest.raises(EmbedderMismatchError):
        ChunkStore.open(store_settings, "model-a")


def test_reindexing_live_content_keeps_its_chunks_and_drops_extras(
    store_settings: Settings,
) -> None:
    store = ChunkStore.open(store_settings, "m")
    store.replace_document(record("a", chunks=3), chunks("a", 3, text="old"))
    store.replace_document(record("a", chunks=2), chunks("a", 2, text="new"))
    assert [(d.doc_id, d.chunks) for d in store.documents()] == [("a", 2)]
    live = sorted((h.chunk_id, h.text) for h in store.live_chunks())
    assert live == [("a:0", "new a 0"), ("a:1", "new a 1")]
    assert store.chunk_count() == 2


def test_two_clients_see_each_others_writes(store_settings: Settings) -> None:
    # Several app processes share one server; in one process two stores share a folder.
    writer = ChunkStore.open(store_settings, "m")
    reader = ChunkStore.open(store_settings, "m")
    writer.replace_document(record("a"), chunks("a"))
    assert reader.live_doc_ids() == ["a"] and doc_ids(reader.search(QUERY, 5)) == {"a"}
    assert reader.delete_document("a")
    assert writer.documents() == [] and writer.chunk_count() == 0


@pytest.mark.slow
def test_ingest_a_pdf_and_ask_it_with_citations(store_settings: Settings) -> None:
    embedder = make_embedder(store_settings)
    indexer = Indexer(store_settings, ChunkStore.open(store_settings, embedder.identity), embedder)
    report = indexer.ingest([CORPUS_PDF])
    assert report.ok, [o.describe() for o in report.outcomes]
    assert [o.status for o in indexer.ingest([CORPUS_PDF]).outcomes] == ["unchanged"]
    answer = Assistant(store_settings).ask(
        "Naar welke landen vertrekken AI-specialisten uit Latijns-Amerika?"
    )
    assert answer.citations
    assert {c.file for c in answer.citations} == {CORPUS_PDF.name}
    assert "Verenigde Staten" in answer.answer


# -- server mode only --------------------------------------------------------------


def test_server_mode_sends_the_token_a_proxy_checks(
    chroma_server: ChromaServer, chroma_admin: Any, tmp_path: Path
) -> None:
    base = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    with TokenProxy(chroma_server, "s3cret") as proxy:
        good = server_settings(base, proxy.server, chroma_token="s3cret")
        try:
            store = ChunkStore.open(good, "m")
            store.replace_document(record("a"), chunks("a"))
            assert store.live_doc_ids() == ["a"]
            assert proxy.seen and set(proxy.seen) == {"Bearer s3cret"}
            assert set(proxy.seen_x_token) == {"s3cret"}  # the header Chroma Cloud reads
            for token in ("wrong", ""):
                with pytest.raises(ChromaServerUnavailableError) as err:
                    ChunkStore.open(good.replace(chroma_token=token), "m")
                assert f"127.0.0.1:{proxy.server.port}" in str(err.value)
                assert "answered with an error (unauthorized)" in str(err.value)
                assert "ASSISTANT_CHROMA_TOKEN" in str(err.value)
            assert proxy.seen[-1] is None  # no header at all without a token
        finally:
            drop_database(chroma_admin, good)


def test_an_unreachable_server_is_named_with_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    settings = Settings.load(
        {"data_dir": tmp_path / "data", "chroma_mode": "server", "chroma_port": port},
        environ={},
    )
    with pytest.raises(ChromaServerUnavailableError) as err:
        ChunkStore.open(settings, "m")
    message = str(err.value)
    assert message.startswith(f"cannot reach the Chroma server at http://127.0.0.1:{port}")
    assert f"chroma run --path DIR --host 127.0.0.1 --port {port}" in message
    # The command line reports it in one line, not a traceback.
    code = main(["documents", "--data-dir", str(tmp_path / "data"), "--chroma-mode", "server",
                 "--chroma-port", str(port)])
    assert code == 2 and "chroma run --path" in capsys.readouterr().err


def test_eval_builds_its_fresh_index_locally_in_server_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without --data-dir, eval indexes the sample corpus afresh; on a shared server that
    # would land in the team's index. Nothing listens on the port: any use of it fails.
    (tmp_path / "corpus").mkdir()
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "corpus"))
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "questions:\n  - {id: q1, language: en, question: 'What score does Canada get?',"
        " answerable: false}\n", encoding="utf-8",
    )
    code = main(["eval", str(questions), "--json", "--chroma-mode", "server",
                 "--chroma-port", str(free_port())])
    assert code == 0, capsys.readouterr().err
    assert '"questions": 1' in capsys.readouterr().out


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": tmp_path, "chroma_mode": "cloud"}, environ={})
    with pytest.raises(ValueError, match="unknown chroma_mode 'cloud'.*'embedded'.*'server'"):
        ChunkStore.open(settings, "m")


def test_server_settings_come_from_the_environment_and_flags() -> None:
    env = {"ASSISTANT_CHROMA_MODE": "server", "ASSISTANT_CHROMA_HOST": "chroma",
           "ASSISTANT_CHROMA_PORT": "8001", "ASSISTANT_CHROMA_TOKEN": "t0k",
           "ASSISTANT_CHROMA_SSL": "1", "ASSISTANT_CHROMA_TENANT": "team",
           "ASSISTANT_CHROMA_DATABASE": "reports"}
    settings = Settings.load(environ=env)
    assert (settings.chroma_mode, settings.chroma_host, settings.chroma_port) == (
        "server", "chroma", 8001)
    assert (settings.chroma_token, settings.chroma_ssl) == ("t0k", True)
    assert (settings.chroma_tenant, settings.chroma_database) == ("team", "reports")
    args = build_parser().parse_args(
        ["documents", "--chroma-mode", "server", "--chroma-host", "db.internal",
         "--chroma-port", "9000"])
    flags = _settings(args)
    assert (flags.chroma_mode, flags.chroma_host, flags.chroma_port) == (
        "server", "db.internal", 9000)
    with pytest.raises(SystemExit):  # the token is never a flag
        build_parser().parse_args(["documents", "--chroma-token", "x"])
