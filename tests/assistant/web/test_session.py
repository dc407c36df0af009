"""The UI's view of the API: language choice, examples, errors as answers, generators."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import yaml

from assistant.answer import Citation, CitedAnswer
from assistant.settings import PROJECT_ROOT, Settings
from assistant.web.session import Session, Waiting, example_questions, payload, ui_language


@pytest.mark.parametrize(
    ("choice", "header", "expected"),
    [
        ("nl", "es-ES,es;q=0.9", "nl"),
        ("auto", "es-ES,es;q=0.9,en;q=0.8", "es"),
        ("auto", "de-DE,de;q=0.9,nl;q=0.5,en;q=0.7", "en"),
        ("auto", "fr-FR", "en"),
        ("auto", "", "en"),
        ("auto", "nl-BE;q=bad, es;q=0.2", "es"),
    ],
)
def test_ui_language_follows_the_choice_then_the_browser(
    choice: str, header: str, expected: str
) -> None:
    assert ui_language(choice, header) == expected


def test_examples_are_answerable_corpus_questions_in_each_language() -> None:
    examples = example_questions(PROJECT_ROOT / "corpus" / "questions.yaml", 4)
    assert set(examples) == {"nl", "es", "en"}
    for questions in examples.values():
        assert len(questions) == 4
        assert all(q.strip().endswith("?") for q in questions)
    assert example_questions(PROJECT_ROOT / "missing.yaml", 4) == {}


def test_examples_only_ask_about_indexed_documents() -> None:
    questions = PROJECT_ROOT / "corpus" / "questions.yaml"
    data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    sources = {
        q["question"]: {s["document"] for s in q.get("sources", [])} for q in data["questions"]
    }
    indexed = {"ilia-2025-es.pdf", "ilia-2025-en.pdf"}
    examples = example_questions(questions, 4, indexed)
    shown = [q for qs in examples.values() for q in qs]
    assert shown and all(sources[q] and sources[q] <= indexed for q in shown)
    # No documents, no examples; the Dutch report's questions go when it is not indexed.
    assert example_questions(questions, 4, []) == {}
    assert shown != [q for qs in example_questions(questions, 4).values() for q in qs]


def test_payload_carries_the_supporting_sentence_of_each_citation() -> None:
    citation = Citation(1, "T", "t.pdf", 2, "S", "One thing. Chile leads the index.", "d", "en")
    data = payload(CitedAnswer("- Chile leads the index. [1]", "en", [citation]))
    assert data["citations"][0]["highlight"] == ["Chile leads the index."]
    assert data["error"] is None and data["found"] is True


class _Broken:
    """Stands in for an Assistant whose index is unreadable (plumbing only)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("chroma exploded")


def test_an_unexpected_error_becomes_a_short_message_in_the_ui_language(
    tmp_path: Any,
) -> None:
    session = Session(_Broken(Settings.load({"data_dir": tmp_path}, environ={})))  # type: ignore[arg-type]
    result = session.ask("Wat is ILIA?", "auto", [])
    assert result["error"] == "internal"
    assert "chroma" not in result["answer"]
    assert result["answer"].startswith("Sorry, something went wrong")
    dutch = list(session.stream("Wat is ILIA?", "nl", []))[-1]
    assert isinstance(dutch, dict) and dutch["answer"].startswith("Sorry, er ging iets mis")


def test_generator_check_names_the_problem(tmp_path: Any) -> None:
    session = Session(_Broken(Settings.load({"data_dir": tmp_path}, environ={})))  # type: ignore[arg-type]
    assert session.check_generator({"generator": "extractive"}) == ""
    assert "unknown generator" in session.check_generator({"generator": "gpt-9"})
    missing = session.check_generator(
        {"generator": "llamacpp", "llm_model_path": str(tmp_path / "absent.gguf")}
    )
    assert "absent.gguf" in missing
    # Nothing listens on port 9 of this machine.
    refused = session.check_generator(
        {"generator": "openai", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"}
    )
    assert refused


@pytest.mark.slow
def test_a_session_can_switch_to_the_local_model_and_back(corpus_assistant: Any) -> None:
    from tests.support.llm import qwen_gguf_path

    session = Session(corpus_assistant)
    chosen = {**session.default_generator(), "generator": "llamacpp",
              "llm_model_path": str(qwen_gguf_path())}
    assert session.check_generator(chosen) == ""
    question = "¿Qué países lideran el ILIA 2025?"
    written = session.ask(question, "auto", [], chosen)
    assert written["generator"] == "llamacpp", written
    assert written["citations"] and written["language"] == "es"
    # The same index serves both: the default session still quotes.
    quoted = session.ask(question, "auto", [])
    assert quoted["generator"] == "extractive" and quoted["citations"]
    assert session.assistant_for(chosen) is session.assistant_for(dict(chosen))
    assert session.assistant_for(chosen).store is corpus_assistant.store


class _Slow:
    """Stands in for an Assistant whose answer makes no progress for a while (plumbing)."""

    def __init__(self, settings: Settings, pause: float) -> None:
        self.settings = settings
        self.pause = pause
        self.finished = threading.Event()

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield "Eerste stuk"
        time.sleep(self.pause)
        yield CitedAnswer("Eerste stuk, en de rest.", "nl", [], found=True)
        self.finished.set()


def test_a_slow_answer_says_it_is_still_working_then_arrives(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("assistant.web.session.NOTICE_SECONDS", 0.05)
    slow = _Slow(Settings.load({"data_dir": tmp_path}, environ={}), pause=0.5)
    events = list(Session(slow).stream("Wat?", "nl", []))  # type: ignore[arg-type]
    assert events[0] == "Eerste stuk"
    assert any(isinstance(e, Waiting) for e in events[1:-1])
    assert isinstance(events[-1], dict) and events[-1]["answer"].startswith("Eerste stuk, en")


def test_an_answer_without_progress_ends_with_a_timeout_message(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("assistant.web.session.NOTICE_SECONDS", 0.05)
    settings = Settings.load({"data_dir": tmp_path, "answer_timeout": 0.3}, environ={})
    slow = _Slow(settings, pause=3.0)
    events = list(Session(slow).stream("¿Qué?", "es", []))  # type: ignore[arg-type]
    last = events[-1]
    assert isinstance(last, dict) and last["error"] == "timeout"
    assert last["answer"].startswith("Sin respuesta tras")
    assert not slow.finished.is_set()  # the request stopped waiting before the work ended
    assert slow.finished.wait(30)  # and the work still ends on its own
