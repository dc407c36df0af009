"""Limits that keep one hostile file from taking the machine down.

Pages, characters and expansion are checked by the loaders while they read (`Limits` is passed
to `load_document`). Time and memory cannot be checked from inside a parser that is stuck in a
loop or allocating without end, so `load_limited` runs the loader in a child process that can
be killed. The child is reused from file to file, and replaced when it was killed, died or has
grown large.

The child is a new interpreter, not a fork: a forked child would hold copies of every file
descriptor the parent had open at that moment (a web server's listening socket, the pipes to a
browser driver), and whoever waits for those to close would wait for the reader too. It starts
in about a third of a second, once per reader.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.errors import IngestError

if TYPE_CHECKING:
    from assistant.settings import Settings
    from ingest.loaders import LoadedDocument

# What parsing one file may add to the reader process's address space. Far above what a 50 MB
# file needs; it is there so that a parser gone wrong meets a MemoryError, not the OOM killer.
DEFAULT_MEMORY_MB = 2048

_MIB = 1024 * 1024
# Starting a reader imports the parsing libraries: that is not the file's time, and it is
# bounded separately so a reader that cannot start is an error rather than a hang.
_START_SECONDS = 60.0
_STOP_SECONDS = 5.0
# Readers kept between files: one per file ingested at the same time (web uploads may overlap).
_MAX_IDLE = 2
# A reader that has grown by this much since it started is replaced after its file: the memory
# a big file needed would otherwise stay with an idle process (Python rarely returns it), and
# the memory limit, which counts only address space the process does not hold yet, would allow
# the next file that much more.
_RETIRE_GROWTH = 512 * _MIB


@dataclass(frozen=True)
class Limits:
    """Per-file limits; None means no limit of that kind."""

    max_pages: int | None = None
    max_chars: int | None = None  # extracted characters
    # Extracted characters, or decoded bytes of a compressed stream or zip member, per byte
    # of the file.
    max_decompression_ratio: float | None = None
    max_seconds: float | None = None  # only `load_limited` can enforce it
    max_memory_mb: int | None = None  # likewise

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        # Zero or less turns a limit off, the same way for every limit.
        return cls(
            max_pages=_positive(settings.max_pages),
            max_chars=_positive(settings.max_chars),
            max_decompression_ratio=_positive(settings.max_decompression_ratio),
            max_seconds=_positive(settings.max_seconds_per_file),
            max_memory_mb=DEFAULT_MEMORY_MB,
        )


_Number = TypeVar("_Number", int, float)


def _positive(value: _Number) -> _Number | None:
    return value if value > 0 else None


def shown_number(value: float) -> int | float:
    """200.0 as 200 and 0.5 as 0.5, in messages and their params."""
    return int(value) if float(value).is_integer() else value


def load_limited(
    path: Path, max_bytes: int | None = None, limits: Limits | None = None
) -> LoadedDocument:
    """`load_document` within `limits`, in a reader process when there is a time limit."""
    from ingest.loaders import load_document

    limits = limits or Limits()
    if limits.max_seconds is None:
        return load_document(path, max_bytes, limits)
    return _POOL.load(Path(path), max_bytes, limits)


# --- the reader process --------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """The reader's loop: requests in, documents or errors out, until told to stop."""
    from ingest import loaders

    loaders.import_parsers()
    started = _memory()
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, max_bytes, limits = request
        _cap_memory(limits.max_memory_mb)
        try:
            result: tuple[str, Any] = ("ok", loaders.load_document(path, max_bytes, limits))
        except IngestError as err:
            result = ("error", err)
        except MemoryError:
            result = ("memory", None)
        except Exception as err:  # noqa: BLE001 - a loader bug is re-raised in the parent
            result = ("exception", err)
        # The heap of a process that ran out of memory is best thrown away, and so is one that
        # has grown a lot. The parent is told with the reply, so it never sends another file
        # to a reader on its way out.
        now = _memory()
        retire = result[0] == "memory" or (
            now is not None and started is not None and now[1] - started[1] > _RETIRE_GROWTH
        )
        try:
            conn.send((*result, retire))
        except Exception as err:  # noqa: BLE001 - e.g. an exception that does not pickle
            conn.send(("exception", RuntimeError(f"{type(err).__name__}: {err}"), retire))
        if retire:
            return


def _memory() -> tuple[int, int] | None:
    """(address space, resident memory) of this process in bytes; None where /proc is not."""
    try:
        with open("/proc/self/statm") as statm:
            size, resident = statm.read().split()[:2]
        page = os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None
    return int(size) * page, int(resident) * page


def _cap_memory(limit_mb: int | None) -> None:
    try:
        import resource
    except ImportError:
        return  # not a Unix: the time limit still applies
    memory = _memory()
    if memory is None:
        return  # no /proc to measure from (not Linux): likewise
    in_use = memory[0]
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    # Relative to what the process already maps (the interpreter and the parsers), so the
    # limit is what one file may add.
    soft = resource.RLIM_INFINITY if limit_mb is None else in_use + limit_mb * _MIB
    if hard != resource.RLIM_INFINITY:
        soft = hard if soft == resource.RLIM_INFINITY else min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# The reader's program: the socket to the parent is passed as a file descriptor number. The
# project's root goes on the path, so this works wherever the package is imported from.
_READER_PROGRAM = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from ingest.limits import reader_main; reader_main(int(sys.argv[2]))"
)
_ROOT = str(Path(__file__).resolve().parents[1])


def reader_main(fd: int) -> None:
    """Entry point of a reader process."""
    _serve(Connection(fd))


class _Reader:
    """One reader process and the socket to it."""

    def __init__(self) -> None:
        self._conn, child_end = multiprocessing.Pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _READER_PROGRAM, _ROOT, str(child_end.fileno())],
                pass_fds=[child_end.fileno()], stdin=subprocess.DEVNULL,
            )
        finally:
            child_end.close()
        # Set while a request is out: a reader whose reply was never read must not serve again,
        # or the next file would receive this file's answer.
        self._pending = False
        self.broken = False
        if not self._conn.poll(_START_SECONDS):
            self.kill()
            raise OSError("the file reader did not start")
        try:
            self._conn.recv()
        except (EOFError, OSError):
            detail = self.kill()
            raise OSError(f"the file reader did not start ({detail})") from None

    @property
    def usable(self) -> bool:
        return not self.broken and not self._pending and self._process.poll() is None

    def load(self, path: Path, max_bytes: int | None, limits: Limits) -> LoadedDocument:
        seconds = limits.max_seconds
        self._pending = True
        try:
            self._conn.send((path, max_bytes, limits))
            if not self._conn.poll(seconds):
                self.kill()
                raise too_slow(path, seconds or 0.0)
            kind, value, retiring = self._conn.recv()
        except (EOFError, OSError):
            # The reader died: before the request (a broken pipe) or while reading the file.
            raise crashed(path, self.kill()) from None
        self._pending = False
        if retiring:
            self.stop()
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        if kind == "memory":
            limit = limits.max_memory_mb or 0
            raise IngestError(
                path,
                f"reading the file needs more than {limit} MB of memory",
                code="too_much_memory",
                params={"limit_mb": limit},
            )
        raise value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._wait(_STOP_SECONDS)
        self.kill()

    def _wait(self, seconds: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(seconds)

    def kill(self) -> str:
        """End the process now; says how it ended, for messages."""
        self.broken = True
        if self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._process.kill()
        self._wait(_STOP_SECONDS)
        self._conn.close()
        code = self._process.returncode
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def crashed(path: Path, detail: str) -> IngestError:
    return IngestError(
        path,
        f"the file reader stopped unexpectedly ({detail})",
        code="parser_crashed",
        params={"detail": detail},
    )


def too_slow(path: Path, seconds: float) -> IngestError:
    shown = shown_number(seconds)
    return IngestError(
        path,
        f"reading the file took longer than the {shown} s limit "
        "(set ASSISTANT_MAX_SECONDS_PER_FILE to raise it)",
        code="too_slow",
        params={"seconds": shown},
    )


class _ReaderPool:
    """Readers kept between files, so a process is started once rather than per file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Reader] = []
        # A process forked for any reason must not talk to the parent's readers: their pipes
        # would carry two conversations at once.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._idle = []

    def load(self, path: Path, max_bytes: int | None, limits: Limits) -> LoadedDocument:
        reader = self._take()
        if reader is None:
            try:
                reader = _Reader()
            except OSError as err:
                raise crashed(path, str(err)) from None
        try:
            return reader.load(path, max_bytes, limits)
        finally:
            self._give_back(reader)

    def _take(self) -> _Reader | None:
        with self._lock:
            while self._idle:
                reader = self._idle.pop()
                if reader.usable:
                    return reader
                reader.kill()
        return None

    def _give_back(self, reader: _Reader) -> None:
        if reader.usable:
            with self._lock:
                if len(self._idle) < _MAX_IDLE:
                    self._idle.append(reader)
                    return
            reader.stop()
        elif not reader.broken:
            # Interrupted mid-request (e.g. KeyboardInterrupt while waiting): its reply is stale.
            reader.kill()


_POOL = _ReaderPool()

