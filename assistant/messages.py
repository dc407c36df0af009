"""User-facing texts per language, read from the data files in `prompts/`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
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


def language_list(in_language: str, languages: Sequence[str]) -> str:
    """"Spanish and English", "Spaans, Engels en Portugees": names joined for a sentence."""
    names = [language_name(in_language, lang) for lang in languages]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {text(in_language, 'and_word')} {names[-1]}"


@functools.cache
def ui_messages(language: str, prompts_dir: Path = PROMPTS_DIR) -> dict[str, Any]:
    """The web UI's labels and messages (prompts/ui/<language>.yaml)."""
    code = language if language in SUPPORTED else "en"
    with (prompts_dir / "ui" / f"{code}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def ui_text(lang: str, key: str, **values: Any) -> str:
    return str(ui_messages(lang)[key]).format(**values)


def file_error(lang: str, code: str, reason: str = "", **params: Any) -> str:
    """A file's error in `lang`; the English `reason` if the code has no translation."""
    templates = messages(lang).get("file_errors") or {}
    template = templates.get(code)
    if template is None:
        return reason or code
    shown = {k: _number(v, lang) if isinstance(v, float) else v for k, v in params.items()}
    try:
        return str(template).format(**shown)
    except (KeyError, IndexError, ValueError):
        return reason or code


def _number(value: float, lang: str) -> str:
    """1.5 -> "1.5" in English, "1,5" in Dutch and Spanish."""
    shown = f"{value:g}" if value == int(value) else f"{value:.1f}"
    return shown.replace(".", ",") if lang in {"nl", "es"} else shown
