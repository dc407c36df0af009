"""Errors raised while turning files into text."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A file that cannot be ingested; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        # Only the file name: the message is shown to users, who know which folder they picked.
        super().__init__(f"{path.name}: {reason}")

    def __reduce__(self) -> tuple[type[IngestError], tuple[Path, str]]:
        # The default pickling would call __init__ with the formatted message only; errors
        # must survive being sent back from worker processes.
        return (type(self), (self.path, self.reason))
