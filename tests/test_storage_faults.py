"""A full disk and a read-only data folder, for real: `assistant ingest` and `assistant ask`
run as subprocesses on a data folder that sits on a small tmpfs, or under a read-only
bind mount. They must stop with a one-line error that names the folder and the reason
(no traceback), and once space or write access is back, the index must be consistent,
with the documents indexed before still complete and answerable.

Mounting needs root with CAP_SYS_ADMIN (chmod does not stop root from writing, and an
RLIMIT_FSIZE limit only fakes a full disk): without it these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.embeddings import make_embedder
from assistant.settings import Settings
from assistant.store import ChunkStore, open_client
from ingest.pipeline import Indexer
from tests.conftest import CORPUS_PDFS, ROOT
from tests.support.kill_ingest import IndexState, check_consistent

pytestmark = pytest.mark.slow

NL, ES, EN = (next(p for p in CORPUS_PDFS if p.name == f"ilia-2025-{lang}.pdf")
              for lang in ("nl", "es", "en"))
QUESTION_NL = "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?"
CLI_TIMEOUT_S = 600  # a hang on a full disk fails the test instead of blocking the run
ROOMY = "64m"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode:
        # Still busy (a child's file handle): detach now, the kernel frees it when closed.
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture(scope="module")
def can_mount() -> None:
    if shutil.which("mount") is None or not hasattr(os, "geteuid"):
        pytest.skip("no mount command on this system")
    with tempfile.TemporaryDirectory() as probe:
        done = _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", probe)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): these tests need "
                        "root with CAP_SYS_ADMIN")
        _umount(Path(probe))


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    assert done.returncode == 0, done.stderr
    try:
        yield path
    finally:
        _umount(path)


def resize(path: Path, size: str) -> None:
    done = _mount("-o", f"remount,size={size}", str(path))
    assert done.returncode == 0, done.stderr


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` as a read-only bind mount of itself: even root cannot write there."""
    assert _mount("--bind", str(path), str(path)).returncode == 0
    try:
        done = _mount("-o", "remount,bind,ro", str(path))
        assert done.returncode == 0, done.stderr
        yield path
    finally:
        _umount(path)


def used_kb(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize // 1024


def fill(disk: Path) -> Path:
    """Write a file until the disk says it is full; returns the file."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * (64 * 1024))
                out.flush()
        except OSError:
            pass  # no space left: exactly what is wanted
    assert os.statvfs(disk).f_bavail == 0
    return filler


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `assistant` command, without ASSISTANT_* settings of this machine."""
    script = Path(sys.executable).with_name("assistant")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S, check=False)


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "panicked" not in output, output[-3000:]


def settings_for(data_dir: Path) -> Settings:
    return Settings.load({"data_dir": data_dir}, environ={})


@pytest.fixture(scope="module")
def base_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the Dutch report indexed, copied into each test's folder."""
    data = tmp_path_factory.mktemp("storage-base") / "data"
    settings = settings_for(data)
    embedder = make_embedder(settings)
    client = open_client(settings)
    try:
        report = Indexer(settings, ChunkStore(client, embedder.identity), embedder).ingest([NL])
    finally:
        client.close()
    assert report.indexed == 1, report.summary()
    return data


def chunk_texts(data_dir: Path) -> dict[str, str]:
    client = open_client(settings_for(data_dir))
    try:
        got = client.get_collection("chunks").get(include=["documents"])
    finally:
        client.close()
    return dict(zip(got["ids"], got["documents"], strict=True))


def assert_dutch_report_intact(data_dir: Path, base: Path, state: IndexState) -> None:
    record = state.record_for(NL.name)
    assert record is not None, [r.file_name for r in state.records]
    before = chunk_texts(base)
    now = chunk_texts(data_dir)
    assert {k: now.get(k) for k in before} == before
    answered = cli("ask", "--json", "--data-dir", str(data_dir), QUESTION_NL)
    assert answered.returncode == 0, answered.stderr[-2000:]
    answer = json.loads(answered.stdout)
    assert answer["citations"], answer
    assert NL.name in {c["file"] for c in answer["citations"]}, answer["citations"]


def assert_one_line_errors(proc: subprocess.CompletedProcess[str], data_dir: Path,
                           reason: str) -> list[str]:
    """Every error line names the folder and the reason; returns those lines."""
    assert_no_traceback(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "failed" in ln or ln.startswith("error:")]
    assert errors, proc.stderr[-2000:]
    for line in errors:
        assert str(data_dir) in line and reason in line, line
    return errors


# ---------------------------------------------------------------------------------------
# A full disk.


@pytest.mark.parametrize("left", ["64k", "nothing"])
def test_ingest_on_a_full_disk_fails_clearly_and_recovers(
    can_mount: None, base_index: Path, tmp_path: Path, left: str
) -> None:
    with tmpfs(tmp_path / "disk", ROOMY) as disk:
        data = disk / "data"
        shutil.copytree(base_index, data)
        if left == "nothing":
            fill(disk)
        else:
            resize(disk, f"{used_kb(disk) + 64}k")

        failed = cli("ingest", "--quiet", "--data-dir", str(data), str(ES), str(EN))
        assert failed.returncode == 1, (failed.stdout, failed.stderr[-2000:])
        assert_one_line_errors(failed, data, "is full")
        assert "indexed (" not in failed.stdout, failed.stdout

        # Space is back: what was indexed before is intact and answerable, and the next
        # ingest completes the rest.
        resize(disk, ROOMY)
        if left == "nothing":
            (disk / "filler").unlink()
        before = check_consistent(settings_for(data), recovered=False)
        assert [r.file_name for r in before.records] == [NL.name]
        assert_dutch_report_intact(data, base_index, before)

        again = cli("ingest", "--quiet", "--data-dir", str(data), str(NL), str(ES), str(EN))
        assert again.returncode == 0, (again.stdout, again.stderr[-2000:])
        assert_no_traceback(again)
        after = check_consistent(settings_for(data))
        assert sorted(r.file_name for r in after.records) == sorted(p.name for p in (NL, ES, EN))
        assert_dutch_report_intact(data, base_index, after)


def test_a_new_index_on_a_full_disk_fails_clearly(can_mount: None, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "256k") as disk:
        fill(disk)
        data = disk / "data"
        failed = cli("ingest", "--quiet", "--data-dir", str(data), str(NL))
        assert failed.returncode == 1, (failed.stdout, failed.stderr[-2000:])
        assert_one_line_errors(failed, data, "is full")


# ---------------------------------------------------------------------------------------
# A read-only data folder.


def test_read_only_data_folder_fails_clearly_and_is_intact_afterwards(
    can_mount: None, base_index: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(base_index, data)
    with read_only(data):
        ingest = cli("ingest", "--quiet", "--data-dir", str(data), str(ES))
        assert ingest.returncode == 1, (ingest.stdout, ingest.stderr[-2000:])
        [line] = assert_one_line_errors(ingest, data, "read-only file system")
        # Chroma opens its database for writing even to read: asking fails the same way.
        ask = cli("ask", "--data-dir", str(data), QUESTION_NL)
        assert ask.returncode == 1
        assert assert_one_line_errors(ask, data, "read-only file system") == [line]

    before = check_consistent(settings_for(data))
    assert [r.file_name for r in before.records] == [NL.name]
    assert_dutch_report_intact(data, base_index, before)
    again = cli("ingest", "--quiet", "--data-dir", str(data), str(ES))
    assert again.returncode == 0, again.stderr[-2000:]
    after = check_consistent(settings_for(data))
    assert sorted(r.file_name for r in after.records) == sorted([NL.name, ES.name])
