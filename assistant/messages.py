"""User-facing texts per language, read from the data files in `prompts/`."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from assistant.language import SUPPORTED
from assistant.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@functools.cache
def messages(language: str, prompts_dir: Path = PROMPTS_DIR) -> dict[str, Any]:
    code = language if language in SUPPORTED else "en"
    with (prompts_dir / f"{code}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def text(lang: str, key: str, **values: Any) -> str:
    return str(messages(lang)[key]).format(**values)


def language_name(in_language: str, of_language: str) -> str:
    names = messages(in_language)["language_names"]
    return str(names.get(of_language, of_language))
