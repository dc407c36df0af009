"""The local model behind generator "auto": quotes until it is ready, then the model;
every way it can fail gives a status that says why, and the quotes stay."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.generation import local
from assistant.generation.local import LocalModel
from assistant.messages import text
from tests.support.llm import qwen_gguf_path

QUESTION = "Which countries lead the ILIA 2025?"


def _auto(settings: Settings, **changes: object) -> Settings:
    return settings.replace(generator="auto", llm_threads=1, llm_temperature=0.0,
                            llm_max_tokens=96, **changes)


def test_only_auto_gets_a_local_model_ready(settings: Settings) -> None:
    assert LocalModel(settings).status().state == "off"
    assert LocalModel(settings).start() is None
    assert LocalModel(_auto(settings)).status().state == "waiting"


def test_a_missing_model_file_is_named_and_answers_stay_quoted(
    corpus_settings: Settings, corpus_report, tmp_path: Path  # noqa: ANN001
) -> None:
    missing = tmp_path / "gone.gguf"
    assistant = Assistant(_auto(corpus_settings, llm_model_path=str(missing)))
    status = assistant.local.prepare()
    assert status.state == "failed"
    assert str(missing) in status.detail
    answer = assistant.ask(QUESTION)
    assert answer.found and answer.generator == "extractive"
    assert answer.answer.startswith(text("en", "according_to"))


def test_a_corrupt_model_file_fails_to_load_with_the_reason(settings: Settings) -> None:
    damaged = settings.data_dir / "damaged.gguf"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"GGUF" + bytes(4096))
    model = LocalModel(_auto(settings, llm_model_path=str(damaged)))
    status = model.prepare()
    assert status.state == "failed"
    assert "cannot load" in status.detail and str(damaged) in status.detail
    assert model.chat_model() is None


def test_without_the_runtime_and_no_build_it_says_how_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes the import fail
    status = LocalModel(_auto(settings, llm_model_path=str(qwen_gguf_path()))).prepare(build=False)
    assert status.state == "failed"
    assert "pip install -e '.[local-llm]'" in status.detail


def test_a_failed_build_reports_its_log(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real pip run that cannot succeed: the package does not exist.
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setattr(local, "LLAMA_CPP_REQUIREMENT", "no-such-package-for-this-test==0.0.1")
    model = LocalModel(_auto(settings, llm_model_path=str(qwen_gguf_path())))
    states: list[str] = []
    original = model._set  # noqa: SLF001 - records the steps it reports

    def record(state: str, detail: str = "") -> None:
        states.append(state)
        original(state, detail)

    monkeypatch.setattr(model, "_set", record)
    status = model.prepare(build=True)
    assert states == ["joining", "building", "failed"]
    log_path = local.build_log_path(model.settings)
    assert str(log_path) in status.detail
    assert "no-such-package-for-this-test" in log_path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_quotes_before_the_model_is_ready_and_the_model_after(
    corpus_settings: Settings, corpus_report  # noqa: ANN001
) -> None:
    assistant = Assistant(_auto(corpus_settings, llm_model_path=str(qwen_gguf_path())))
    before = assistant.ask(QUESTION)
    assert before.generator == "extractive"
    thread = assistant.local.start()
    assert thread is not None and assistant.local.start() is None  # once
    thread.join()
    assert assistant.local.status().state == "ready", assistant.local.status()
    after = assistant.ask(QUESTION)
    assert after.generator == "llamacpp", after.answer
    assert after.citations
    assert not after.answer.startswith(text("en", "according_to"))
