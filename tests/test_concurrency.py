"""Concurrent use: questions keep being answered, from complete documents only, while
documents are added and replaced underneath.

* The running app answers 8 gradio_client clients at once while one writer adds the
  third corpus PDF (through an `Indexer` of its own on the same index, as an `assistant
  ingest` next to the app would) and then uploads new versions of one Markdown report
  through the app's `/upload` endpoint. Every sentence of a version carries that
  version's marker word, so a cited passage shows which version it comes from, and a
  passage mixing two versions would show that too.
* Two writers on one index: one `Indexer`'s start-of-run recovery must not take the
  write another is doing at that moment for the leftovers of a crash.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from assistant.embeddings import IdentifiedEmbeddings, make_embedder
from assistant.settings import Settings
from assistant.store import ChunkStore
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import Indexer
from tests.support.kill_ingest import check_consistent
from tests.test_app import CORPUS_PDFS, build_index, running_app

pytestmark = pytest.mark.slow

CLIENTS = 8
QUESTIONS_PER_CLIENT = 10  # at least; clients go on asking until the writer is done
# A hang is judged by progress, not by the wall clock: the test fails when no client got
# an answer and the writer finished no step for this long (an answer takes about a
# second; on a machine busy with other jobs, several).
STALL_S = 120.0
# Only a backstop, far beyond any busy machine: the whole exchange normally takes ~1 min.
BACKSTOP_S = 1800.0
# Two cores serve 8 clients, the embedder and the writer: a request may wait in the queue
# longer than gradio_client's default 5 s read timeout.
CLIENT_OPTIONS: dict[str, Any] = {"verbose": False, "httpx_kwargs": {"timeout": STALL_S}}
MARKERS = ("amberfox", "bluewren", "coralbay", "duskowl")
QUESTIONS = (
    ("What did the bridge inspection budget pay for?", "md"),
    ("What did residents tell the inspectors about the ferry?", "md"),
    ("¿Qué puntuación obtuvo Chile en el ILIA 2025?", "pdf"),
    ("Welke drie landen boekten de snelste vooruitgang op de randvoorwaarden?", "pdf"),
    ("Which countries were still preparing a national AI strategy in 2025?", "pdf"),
)
SENTENCES = (
    "The {m} survey of bridge site {n} counted the river crossings before the spring "
    "floods arrived.",
    "Inspectors of the {m} team found cracks in the old stone piers of site {n}.",
    "The {m} budget for site {n} paid for new railings, better lighting and a temporary "
    "footbridge for the schoolchildren.",
    "Residents near site {n} told the {m} inspectors that the ferry had stopped running "
    "after the storm damaged its landing stage.",
)


def version_text(marker: str, sections: int = 3) -> str:
    lines = [f"# Bridge inspection report ({marker})", ""]
    for n in range(1, sections + 1):
        lines += [f"## Site {n}", "", " ".join(s.format(m=marker, n=n) for s in SENTENCES), ""]
    return "\n".join(lines)


@dataclass
class Asked:
    question: str
    started: float
    finished: float
    result: dict[str, Any]


@dataclass
class Version:
    marker: str
    doc_id: str
    texts: set[str]  # its chunks, as the chunker cuts them
    upload_started: float
    upload_finished: float


class Progress:
    """When anyone last got somewhere: a client an answer, the writer a step."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def made(self) -> None:
        self.last = time.monotonic()

    def problem(self) -> str:
        """Why to stop waiting ("" while things move)."""
        now = time.monotonic()
        if now - self.last > STALL_S:
            return f"no answer and no write for {STALL_S:.0f} s"
        if now - self.started > BACKSTOP_S:
            return f"still going after {BACKSTOP_S:.0f} s"
        return ""


@dataclass
class Writer:
    versions: list[Version] = field(default_factory=list)
    pdf_doc_id: str = ""
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    cited: Counter[str] = field(default_factory=Counter)  # doc id -> citations seen so far
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, result: dict[str, Any]) -> None:
        with self.lock:
            self.cited.update({c["doc_id"] for c in result.get("citations", [])})

    def wait_until_cited(self, doc_id: str, progress: Progress) -> None:
        """Let the clients answer from a version before it is replaced, so every version
        is read while the next one is being written."""
        while not (problem := progress.problem()):
            with self.lock:
                if self.cited[doc_id]:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"no answer cited {doc_id}: {problem}")


def write_documents(url: str, settings: Settings, folder: Path, writer: Writer,
                    progress: Progress) -> None:
    """The third PDF through an Indexer of its own, then each Markdown version uploaded."""
    try:
        embedder = make_embedder(settings)
        store = ChunkStore.open(settings, embedder.identity)
        report = Indexer(settings, store, embedder).ingest([CORPUS_PDFS[2]])
        assert report.indexed == 1, report.summary()
        writer.pdf_doc_id = report.outcomes[0].doc_id
        progress.made()
        client = Client(url, **CLIENT_OPTIONS)
        path = folder / "bridges.md"
        for marker in MARKERS:
            path.write_text(version_text(marker), encoding="utf-8")
            doc = load_document(path)
            texts = {c.text for c in chunk_document(doc.pages, settings.chunk_size,
                                                    settings.chunk_overlap_sentences)}
            started = time.monotonic()
            [outcome] = client.predict([handle_file(path)], api_name="/upload")
            assert outcome["status"] == "indexed", outcome
            assert outcome["doc_id"] == doc.content_hash
            writer.versions.append(
                Version(marker, outcome["doc_id"], texts, started, time.monotonic()))
            progress.made()
            writer.wait_until_cited(outcome["doc_id"], progress)
    except BaseException as err:  # noqa: BLE001 - handed to the test thread
        writer.error = err
    finally:
        writer.done.set()


def ask_in_a_loop(url: str, offset: int, writer: Writer, progress: Progress,
                  out: list[Asked], failures: list[str]) -> None:
    try:
        client = Client(url, **CLIENT_OPTIONS)
        i = 0
        while i < QUESTIONS_PER_CLIENT or not writer.done.is_set():
            if problem := progress.problem():
                failures.append(f"client {offset}: {problem}")
                return
            question = QUESTIONS[(offset + i) % len(QUESTIONS)][0]
            started = time.monotonic()
            result = client.predict(question, "auto", [], api_name="/ask")
            out.append(Asked(question, started, time.monotonic(), result))
            progress.made()
            writer.seen(result)
            i += 1
    except Exception as err:  # noqa: BLE001 - handed to the test thread
        failures.append(f"client {offset}: {err!r}")


@pytest.fixture(scope="module")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_index(tmp_path_factory.mktemp("concurrent-data"), CORPUS_PDFS[:2])


def test_answers_stay_complete_while_documents_change(
    base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    with running_app(base_settings) as url:
        writer = Writer()
        asked: list[Asked] = []
        failures: list[str] = []
        started = time.monotonic()
        progress = Progress()
        threads = [threading.Thread(target=write_documents,
                                    args=(url, base_settings, tmp_path, writer, progress))]
        threads += [threading.Thread(target=ask_in_a_loop,
                                     args=(url, n, writer, progress, asked, failures))
                    for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            # A thread stops by itself once progress stalls; a request in flight then
            # ends at its own timeout (STALL_S).
            t.join(max(1.0, BACKSTOP_S - (time.monotonic() - started)) + 2 * STALL_S)
        assert not any(t.is_alive() for t in threads), "a client hung"
        seconds = time.monotonic() - started
    assert writer.error is None, repr(writer.error)
    assert not failures, failures

    state = check_consistent(base_settings)
    final = {r.file_name: r.doc_id for r in state.records}
    assert final["bridges.md"] == writer.versions[-1].doc_id
    store = ChunkStore.open(base_settings, make_embedder(base_settings).identity)
    pdf_texts: dict[str, set[str]] = {}
    for hit in store.live_chunks():
        pdf_texts.setdefault(hit.metadata["doc_id"], set()).add(hit.text)
    pdf_ids = {final[p.name] for p in CORPUS_PDFS}
    assert writer.pdf_doc_id in pdf_ids
    by_id = {v.doc_id: (i, v) for i, v in enumerate(writer.versions)}

    cited: Counter[str] = Counter()
    errors = [a for a in asked if a.result.get("error") is not None]
    assert not errors, [(a.question, a.result) for a in errors[:3]]
    for a in asked:
        for c in a.result["citations"]:
            if c["doc_id"] in pdf_ids:
                # Unchanged documents: the passage is one of their chunks, word for word.
                assert c["text"] in pdf_texts[c["doc_id"]], c
                cited[c["file"]] += 1
                continue
            assert c["doc_id"] in by_id, f"cited a document that was never complete: {c}"
            i, version = by_id[c["doc_id"]]
            assert c["text"] in version.texts, (version.marker, c["text"])
            others = [m for m in MARKERS if m != version.marker and m in c["text"]]
            assert not others, (version.marker, others, c["text"])
            # Live only between its own upload and the next: never cited outside that.
            nxt = writer.versions[i + 1].upload_finished if i + 1 < len(MARKERS) else 1e18
            assert a.finished >= version.upload_started and a.started <= nxt, version.marker
            cited[version.marker] += 1

    per_kind = Counter(kind for q, kind in QUESTIONS for a in asked if a.question == q)
    print(f"\n{len(asked)} questions asked in {seconds:.0f} s ({dict(per_kind)}), "
          f"citations: {dict(cited)}")
    assert len(asked) >= CLIENTS * QUESTIONS_PER_CLIENT
    # Every version of the report was cited while the report kept changing.
    assert all(cited[m] for m in MARKERS), dict(cited)


# ---------------------------------------------------------------------------------------
# Two writers on one index.


@pytest.fixture(scope="module")
def embedder() -> IdentifiedEmbeddings:
    return make_embedder(Settings.load(environ={}))


def test_recovery_of_one_writer_spares_the_write_of_another(
    tmp_path: Path, embedder: IdentifiedEmbeddings
) -> None:
    """E.g. `assistant ingest` running while someone uploads in the web app: both
    recover before they write. Writer A is held after its first chunk batch (on the
    store's own Chroma collection), writer B runs a whole ingest meanwhile."""
    settings = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    first.write_text(version_text("amberfox", 6), encoding="utf-8")
    second.write_text(version_text("bluewren", 2), encoding="utf-8")

    store_a = ChunkStore.open(settings, embedder.identity)
    store_b = ChunkStore.open(settings, embedder.identity)
    a_wrote, b_done = threading.Event(), threading.Event()
    upsert = store_a._chunks.upsert  # noqa: SLF001

    def held_upsert(**kwargs: Any) -> None:
        upsert(**kwargs)
        if not a_wrote.is_set():
            a_wrote.set()
            assert b_done.wait(300), "writer B did not finish"

    store_a._chunks.upsert = held_upsert  # noqa: SLF001
    store_a._client.get_max_batch_size = lambda: 2  # noqa: SLF001 - several batches
    outcome: list[Any] = []
    a = threading.Thread(target=lambda: outcome.append(
        Indexer(settings, store_a, embedder).ingest([first])))
    a.start()
    try:
        assert a_wrote.wait(300), "writer A never wrote"
        report_b = Indexer(settings, store_b, embedder).ingest([second])
        assert report_b.indexed == 1
    finally:
        b_done.set()
        a.join(300)
    assert outcome and outcome[0].indexed == 1, outcome

    state = check_consistent(settings)
    assert sorted(r.file_name for r in state.records) == ["first.md", "second.md"]
    doc = load_document(first)
    expected = chunk_document(doc.pages, settings.chunk_size, settings.chunk_overlap_sentences)
    record = state.record_for("first.md")
    assert record is not None and record.chunks == len(expected) > 2



def test_a_question_answered_while_its_document_is_replaced(
    tmp_path: Path, embedder: IdentifiedEmbeddings
) -> None:
    """A question works from the live view it read first (chunks and vectors in memory).
    If the document is replaced (old chunks deleted) right after that read, the answer
    must still come, whole from the version it read; the next question sees the new
    version. The real replacement is made to happen at exactly that moment."""
    from assistant.core import Assistant

    settings = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    doc = tmp_path / "bridges.md"
    doc.write_text(version_text("amberfox"), encoding="utf-8")
    writer = Indexer(settings, ChunkStore.open(settings, embedder.identity), embedder)
    assert writer.ingest([doc]).indexed == 1
    assistant = Assistant(settings, embedder=embedder)
    question = QUESTIONS[1][0]
    first = assistant.ask(question)  # loads the live view and the lexical index
    assert first.citations and "amberfox" in first.citations[0].text

    store = assistant.store
    live = store.live
    calls: list[int] = []

    def replaced_after_reading() -> Any:
        snapshot = live()
        calls.append(1)
        if len(calls) == 2:  # the retrieval's read (the first is the "any documents?" check)
            doc.write_text(version_text("bluewren"), encoding="utf-8")
            assert writer.ingest([doc]).indexed == 1
        return snapshot

    store.live = replaced_after_reading  # type: ignore[method-assign]
    answer = assistant.ask(question)
    assert len(calls) >= 2, "the replacement did not happen mid-question"
    assert writer.store.chunk_count() == len(writer.store.live_chunks())  # old chunks gone
    assert answer.citations and all("amberfox" in c.text for c in answer.citations)
    assert not any("bluewren" in c.text for c in answer.citations)
    store.live = live  # type: ignore[method-assign]
    after = assistant.ask(question)
    assert after.citations and all("bluewren" in c.text for c in after.citations)
    after = assistant.ask(question)
    assert after.citations and all("bluewren" in c.text for c in after.citations)


def test_text_analysis_gives_the_same_terms_in_parallel_threads() -> None:
    """The web app answers several questions at once, and each answer stems its passages
    (BM25 and the extractive answerer): threads must not disturb each other's stemming."""
    import sys

    from assistant.lexical import analyse

    texts = {p.name[-6:-4]: " ".join(page.text for page in load_document(p).pages)
             for p in CORPUS_PDFS}
    expected = {lang: analyse(text, lang) for lang, text in texts.items()}
    problems: list[str] = []

    def analyse_again(lang: str) -> None:
        for _ in range(3):
            try:
                if analyse(texts[lang], lang) != expected[lang]:
                    problems.append(f"{lang}: other terms")
            except Exception as err:  # noqa: BLE001 - collected for the assertion
                problems.append(f"{lang}: {err!r}")

    interval = sys.getswitchinterval()
    # Switch threads as often as possible, so that a shared state shows at once.
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=analyse_again, args=(lang,))
                   for lang in texts for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not problems, f"{len(problems)} of {3 * len(threads)} analyses: {problems[:3]}"
