"""The bundled 1.5B model writes answers in the question's language from reports in
other languages, cited (generator "auto", as `make run --generator auto` serves it).

Three test-split questions, one per language, each answered only by a report in another
language. A handful, not the whole set: on two cores one answer takes 15-60 s.
"""

from __future__ import annotations

import pytest

from assistant import Assistant, Settings
from assistant.evaluation import _text_language, facts_found, load_questions
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow

# Dutch asks the Spanish report, Spanish the Dutch one, English the Spanish one.
QUESTION_IDS = ("nl-05", "es-02", "en-04")


@pytest.fixture(scope="module")
def auto_assistant(corpus_settings: Settings, corpus_report) -> Assistant:  # noqa: ANN001
    settings = corpus_settings.replace(generator="auto", llm_temperature=0.0, llm_max_tokens=160)
    assistant = Assistant(settings)
    status = assistant.local.prepare(build=False)
    assert status.state == "ready", status.detail
    return assistant


@pytest.mark.parametrize("question_id", QUESTION_IDS)
def test_the_bundled_model_answers_across_languages(
    auto_assistant: Assistant, question_id: str
) -> None:
    question = next(q for q in load_questions(CORPUS / "questions.yaml") if q.id == question_id)
    answer = auto_assistant.ask(question.question)
    assert answer.generator == "llamacpp", answer.answer
    assert _text_language(answer.answer, question.language) == question.language, answer.answer
    assert answer.citations and not answer.invalid_markers
    cited = {c.file for c in answer.citations}
    assert {s.document for s in question.sources} & cited, (cited, answer.answer)
    assert facts_found(answer.answer, question) >= 1, answer.answer
