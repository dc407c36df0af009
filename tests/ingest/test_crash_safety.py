"""Crash safety with a real SIGKILL: an ingest killed at any point of a document's write
leaves an index whose readers see only complete documents, and the next ingest makes
it clean again (every document complete and equal to a clean ingest, nothing left over).

The ingest runs in a child process (`tests/support/kill_ingest.py`) that kills itself
at a chosen moment of the write: after the pending record, between chunk batches, right
after the manifest flip, after the old chunks are deleted, in the middle of embedding.
One more child is killed from here at a moment picked at random. Each time this process
then opens the index afresh, checks what readers would see, runs a normal ingest and
checks the result against a clean ingest of the same files.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import IdentifiedEmbeddings, make_embedder
from assistant.settings import Settings
from assistant.store import ChunkStore, open_client
from ingest.pipeline import Indexer, IngestReport
from tests.conftest import CORPUS_PDFS, ROOT
from tests.support.kill_ingest import check_consistent

pytestmark = pytest.mark.slow

CHILD_TIMEOUT_S = 600
STORE_BATCH = 3  # chunks per Chroma upsert in the child: a document takes several
EMBED_BATCH = 4  # chunks per embedding call in the child

SENTENCES = (
    "The {marker} survey of site {n} counted the river crossings and the state of each "
    "bridge before the spring floods arrived.",
    "Inspectors of the {marker} team walked the eastern bank of site {n} twice and wrote "
    "down every crack they found in the old stone piers.",
    "According to the {marker} notes, the water at site {n} rose faster than in any "
    "previous year, which worried the engineers on duty.",
    "The {marker} budget for site {n} paid for new railings, better lighting and a "
    "temporary footbridge for the schoolchildren of the village.",
    "Residents near site {n} told the {marker} inspectors that the ferry had stopped "
    "running after the storm damaged its landing stage.",
    "In its closing remarks the {marker} report asks the council to repair site {n} "
    "before the next winter season begins.",
)


def report_text(marker: str, sections: int) -> str:
    """A Markdown report in English; every sentence carries `marker` (one version)."""
    lines = [f"# Bridge inspection {marker}", ""]
    for n in range(1, sections + 1):
        lines += [f"## Site {n}", "", " ".join(s.format(marker=marker, n=n) for s in SENTENCES),
                  ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Texts:
    """The Markdown documents of these tests, as file contents by name."""

    v1: str = report_text("amberfox", 6)
    v2: str = report_text("bluewren", 8)
    extra: tuple[str, ...] = (report_text("coralbay", 4), report_text("duskowl", 4),
                              report_text("emberly", 4))


TEXTS = Texts()


@pytest.fixture(scope="module")
def embedder() -> IdentifiedEmbeddings:
    return make_embedder(Settings.load(environ={}))


def settings_for(data_dir: Path) -> Settings:
    # environ={}, as the child uses: both must chunk and embed alike.
    return Settings.load({"data_dir": data_dir}, environ={})


@contextmanager
def opened(settings: Settings, embedder: IdentifiedEmbeddings) -> Iterator[ChunkStore]:
    """A store on a client of its own, closed after use: the next open reads the disk
    again instead of sharing this process's cached Chroma system."""
    client = open_client(settings)
    try:
        yield ChunkStore(client, embedder.identity)
    finally:
        client.close()


def ingest(settings: Settings, embedder: IdentifiedEmbeddings, paths: Sequence[Path]
           ) -> IngestReport:
    """A normal ingest, as `assistant ingest` runs it (recovery first)."""
    with opened(settings, embedder) as store:
        report = Indexer(settings, store, embedder).ingest(list(paths))
    assert report.ok, [o.describe() for o in report.outcomes]
    return report


@dataclass(frozen=True)
class Reference:
    """Chunks of a clean ingest, by document id: (text, page, section, vector) in order."""

    chunks: dict[str, list[tuple[str, int, str, list[float]]]]

    @classmethod
    def read(cls, settings: Settings, embedder: IdentifiedEmbeddings) -> Reference:
        with opened(settings, embedder) as store:
            got = store._chunks.get(include=["documents", "metadatas", "embeddings"])  # noqa: SLF001
        rows = sorted(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"],
                          strict=True))
        chunks: dict[str, list[tuple[str, int, str, list[float]]]] = {}
        for _, text, meta, vec in rows:
            chunks.setdefault(meta["doc_id"], []).append(
                (text, meta["page"], meta["section"], list(vec)))
        return cls(chunks)

    def assert_same(self, other: Reference, doc_ids: Sequence[str]) -> None:
        for doc_id in doc_ids:
            mine, theirs = self.chunks[doc_id], other.chunks.get(doc_id, [])
            assert [c[:3] for c in theirs] == [c[:3] for c in mine], doc_id
            # Same model, same text: the vectors agree up to numeric noise (batching, and
            # the embedder may run another engine for larger batches), and each one is
            # nearest to its own chunk's reference vector, not a neighbour's.
            ref = np.asarray([c[3] for c in mine])
            got = np.asarray([c[3] for c in theirs])
            ref /= np.linalg.norm(ref, axis=1, keepdims=True)
            got /= np.linalg.norm(got, axis=1, keepdims=True)
            similarity = got @ ref.T
            assert (similarity.argmax(axis=1) == np.arange(len(ref))).all(), doc_id
            assert similarity.diagonal().min() > 0.999, similarity.diagonal().min()


@pytest.fixture(scope="module")
def md_reference(tmp_path_factory: pytest.TempPathFactory,
                 embedder: IdentifiedEmbeddings) -> Reference:
    """A clean ingest of every Markdown text, each under its own file name."""
    folder = tmp_path_factory.mktemp("md-reference")
    files = []
    for name, content in [("v1.md", TEXTS.v1), ("v2.md", TEXTS.v2)] + [
        (f"extra{i}.md", text) for i, text in enumerate(TEXTS.extra)
    ]:
        (folder / name).write_text(content, encoding="utf-8")
        files.append(folder / name)
    settings = settings_for(folder / "data")
    ingest(settings, embedder, files)
    return Reference.read(settings, embedder)


def kill_child(data_dir: Path, paths: Sequence[Path], kill_at: str, nth: int = 1,
               store_batch: int = STORE_BATCH, embed_batch: int = EMBED_BATCH) -> list[str]:
    """Run the trapped ingest; it must die by SIGKILL. Returns its trap events."""
    cmd = [sys.executable, "-m", "tests.support.kill_ingest", "--data-dir", str(data_dir),
           "--kill-at", kill_at, "--nth", str(nth), "--store-batch", str(store_batch),
           "--embed-batch", str(embed_batch), *map(str, paths)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S, check=False)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    events = [line.split(" ", 1)[1] for line in proc.stdout.splitlines()
              if line.startswith("event ")]
    assert events and events[-1] == f"{kill_at} {nth}", events
    return events


def doc_id_of(reference: Reference, text: str) -> str:
    """The document id (content hash) of one of the Markdown texts."""
    marker = text.split("\n", 1)[0].split()[-1]
    found = [d for d, chunks in reference.chunks.items() if marker in chunks[0][0]]
    assert len(found) == 1, marker
    return found[0]


# ---------------------------------------------------------------------------------------
# One document re-ingested after a change: the kill falls in the write of version 2.


@dataclass(frozen=True)
class KillPoint:
    kill_at: str
    nth: int
    live_before_recovery: str  # "v1" or "v2": which version readers see after the kill
    pending: int
    orphans_of: str  # "", "v1" or "v2": whose chunks lie around unlisted
    orphan_chunks: int  # how many (-1: all chunks of that version)


KILL_POINTS = {
    "embedding, before any store write": KillPoint("embed", 1, "v1", 0, "", 0),
    "pending record written, no chunk yet": KillPoint("pending", 1, "v1", 1, "", 0),
    "2 chunk batches written, more to come": KillPoint("chunks", 2, "v1", 1, "v2", 2 * STORE_BATCH),
    "manifest flipped, old chunks not yet deleted": KillPoint("flip", 1, "v2", 1, "v1", -1),
    "old chunks deleted, pending record not yet removed": KillPoint("cleanup", 1, "v2", 1,
                                                                    "", 0),
}


@pytest.mark.parametrize("point", KILL_POINTS.values(), ids=KILL_POINTS.keys())
def test_kill_during_reingest_of_a_changed_file(
    point: KillPoint, tmp_path: Path, embedder: IdentifiedEmbeddings, md_reference: Reference
) -> None:
    settings = settings_for(tmp_path / "data")
    doc = tmp_path / "docs" / "report.md"
    doc.parent.mkdir()
    doc.write_text(TEXTS.v1, encoding="utf-8")
    ingest(settings, embedder, [doc])
    ids = {"v1": doc_id_of(md_reference, TEXTS.v1), "v2": doc_id_of(md_reference, TEXTS.v2)}
    sizes = {v: len(md_reference.chunks[d]) for v, d in ids.items()}
    assert sizes["v2"] > 2 * STORE_BATCH  # the chunk kill falls between batches

    doc.write_text(TEXTS.v2, encoding="utf-8")
    events = kill_child(settings.data_dir, [doc], point.kill_at, point.nth)
    if point.kill_at == "embed":
        # In the middle of the document: more embedding batches were still to come.
        assert sizes["v2"] > point.nth * EMBED_BATCH
        assert not any(e.startswith(("pending", "chunks")) for e in events)

    before = check_consistent(settings, recovered=False)
    [record] = before.records
    assert record.doc_id == ids[point.live_before_recovery]
    assert record.chunks == sizes[point.live_before_recovery]
    assert len(before.pending) == point.pending
    expected = {}
    if point.orphans_of:
        n = sizes[point.orphans_of] if point.orphan_chunks < 0 else point.orphan_chunks
        expected = {ids[point.orphans_of]: n}
    assert before.orphans == expected

    report = ingest(settings, embedder, [doc])
    after = check_consistent(settings)
    [record] = after.records
    assert record.doc_id == ids["v2"]
    assert after.total_chunks == sizes["v2"]
    # Killed after the flip, the next run finds v2 live and embeds nothing.
    assert report.indexed == (1 if point.live_before_recovery == "v1" else 0)
    md_reference.assert_same(Reference.read(settings, embedder), [ids["v2"]])


def test_kill_during_first_ingest_leaves_nothing_visible(
    tmp_path: Path, embedder: IdentifiedEmbeddings, md_reference: Reference
) -> None:
    settings = settings_for(tmp_path / "data")
    doc = tmp_path / "report.md"
    doc.write_text(TEXTS.v2, encoding="utf-8")
    kill_child(settings.data_dir, [doc], "chunks", 2)

    before = check_consistent(settings, recovered=False)
    assert before.records == []
    assert before.orphans == {doc_id_of(md_reference, TEXTS.v2): 2 * STORE_BATCH}

    ingest(settings, embedder, [doc])
    after = check_consistent(settings)
    assert [r.doc_id for r in after.records] == [doc_id_of(md_reference, TEXTS.v2)]
    md_reference.assert_same(Reference.read(settings, embedder), [after.records[0].doc_id])


def test_kill_in_the_second_of_three_documents(
    tmp_path: Path, embedder: IdentifiedEmbeddings, md_reference: Reference
) -> None:
    settings = settings_for(tmp_path / "data")
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = []
    for i, text in enumerate(TEXTS.extra):
        paths.append(folder / f"extra{i}.md")
        paths[-1].write_text(text, encoding="utf-8")
    ids = [doc_id_of(md_reference, text) for text in TEXTS.extra]
    # The second document's manifest flip: the first is done, the third not begun.
    kill_child(settings.data_dir, paths, "flip", 2)

    before = check_consistent(settings, recovered=False)
    assert sorted(r.doc_id for r in before.records) == sorted(ids[:2])
    assert len(before.pending) == 1

    report = ingest(settings, embedder, paths)
    assert (report.unchanged, report.indexed) == (2, 1)
    after = check_consistent(settings)
    assert sorted(r.doc_id for r in after.records) == sorted(ids)
    md_reference.assert_same(Reference.read(settings, embedder), ids)


# ---------------------------------------------------------------------------------------
# The corpus, killed from outside at a moment picked at random.


@pytest.fixture(scope="module")
def pdf_reference(corpus_settings: Settings, corpus_report: IngestReport,
                  embedder: IdentifiedEmbeddings) -> Reference:
    """The session's clean index of the corpus (tests/conftest.py)."""
    return Reference.read(corpus_settings, embedder)


def test_sigkill_from_outside_at_a_random_moment(
    tmp_path: Path, embedder: IdentifiedEmbeddings, pdf_reference: Reference
) -> None:
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    settings = settings_for(tmp_path / "data")
    # The trap never fires; events only say how far the ingest got. Default batches:
    # one upsert per PDF, as a real ingest writes.
    cmd = [sys.executable, "-m", "tests.support.kill_ingest", "--data-dir",
           str(settings.data_dir), "--kill-at", "never", *map(str, CORPUS_PDFS)]
    # Any write event of the first two documents (4 per document: pending, chunks, flip,
    # cleanup), then a little later: within the write, or in the next document's parsing
    # and embedding, which takes seconds. After the last document's events too little
    # work may be left for the delay, and the child would finish before the kill.
    target = rng.randint(1, 4 * (len(CORPUS_PDFS) - 1))
    delay = rng.uniform(0.0, 0.5)
    seen: list[str] = []
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("event ") and not line.startswith("event embed"):
                seen.append(line.split()[1])
                if len(seen) == target:
                    time.sleep(delay)
                    child.send_signal(signal.SIGKILL)
                    break
        child.wait(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    context = f"seed {seed}: killed {delay:.2f} s after write event {target} ({seen})"
    assert child.returncode == -signal.SIGKILL, context
    print(f"\n{context}")

    before = check_consistent(settings, recovered=False)
    # The flip is the third write event of a document: these were live before the kill.
    done = (target + 1) // 4
    assert len(before.records) >= done, context

    report = ingest(settings, embedder, CORPUS_PDFS)
    assert report.indexed + report.unchanged == len(CORPUS_PDFS), context
    after = check_consistent(settings)
    # A document's id is the SHA-256 of its file.
    ids = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS_PDFS)
    assert sorted(r.doc_id for r in after.records) == ids, context
    for record in after.records:
        assert record.chunks == len(pdf_reference.chunks[record.doc_id]), context
    pdf_reference.assert_same(Reference.read(settings, embedder), ids)
