"""Errors raised while turning files into text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# What a message template may be filled with: plain values that every formatter handles.
Params = dict[str, str | int | float]


class IngestError(Exception):
    """A file that cannot be ingested; the message names the file and the reason.

    `reason` is English, for logs and the command line. `code` and `params` say the same thing
    in a machine-readable way, so the web UI can show it in the user's language
    (`prompts/<lang>.yaml`, `file_errors[code].format(**params)`).
    """

    def __init__(
        self,
        path: Path,
        reason: str,
        *,
        code: str = "unreadable",
        params: Params | None = None,
    ) -> None:
        self.path = path
        self.reason = reason
        self.code = code
        # A copy, so a caller reusing its dict cannot change an error already raised.
        self.params: Params = dict(params or {})
        # Only the file name: the message is shown to users, who know which folder they picked.
        super().__init__(f"{path.name}: {reason}")

    def __reduce__(self) -> tuple[type[IngestError], tuple[Path, str], dict[str, Any]]:
        # The default pickling would call __init__ with the formatted message only; errors
        # must survive being sent back from worker processes. code and params are keyword-only,
        # so they travel as state, which BaseException.__setstate__ puts back on the instance.
        return (type(self), (self.path, self.reason), {"code": self.code, "params": self.params})
