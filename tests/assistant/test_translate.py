"""The "translate" answer style: quoted lines in other languages put into the asker's
language by a chat model, with guards. Plumbing, with scripted models; the bundled
model itself is exercised in test_bundled_model_answers.py."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant import Settings
from assistant.answer import ORIGINAL_PREFIX, Citation, CitedAnswer, final_answer
from assistant.extractive import quoted_note
from assistant.generation.translate import (
    accepted,
    foreign_lines,
    parse_items,
    translate_answer,
)
from assistant.messages import text
from tests.support.chat_models import SEEN, RecordingModel, fake

SPANISH = "Chile encabeza el índice con 73,07 puntos, seguido de Brasil y Uruguay."
ENGLISH = "The first edition was released in 2023 and covered 12 countries."
DUTCH = "In 2025 tellen we drie pioniers, acht volgers en acht verkenners."
ROW = "Chile | 73,07 | Pionero"


def cite(n: int, lang: str) -> Citation:
    return Citation(n, f"Report {n}", f"r-{lang}.pdf", n, "1. Summary", "passage", language=lang)


def quoted_answer() -> CitedAnswer:
    lines = [
        text("nl", "according_to"),
        f"- {SPANISH} [1] (ook Engels [4])",
        f"- {ENGLISH} [2]",
        f"- {DUTCH} [3]",
        f"- {ROW} [1]",
        quoted_note("nl", ["es", "en"]),
    ]
    citations = [cite(1, "es"), cite(2, "en"), cite(3, "nl"), cite(4, "en")]
    return CitedAnswer("\n".join(lines), "nl", citations)


class BrokenModel(GenericFakeChatModel):
    def _stream(self, *args: Any, **kwargs: Any):  # noqa: ANN202
        raise RuntimeError("llama_decode returned -3")


def test_only_prose_quoted_from_another_language_is_translated() -> None:
    lines = foreign_lines(quoted_answer(), "nl")
    # The Dutch line stays, and so does the table row (figures and names read alike).
    assert [(line.body, line.language) for line in lines] == [(SPANISH, "es"), (ENGLISH, "en")]
    assert lines[0].tail == " [1] (ook Engels [4])"
    assert foreign_lines(quoted_answer(), "es")[0].body == ENGLISH


def test_numbered_reply_parsed_with_wrapped_lines_and_stray_markers() -> None:
    raw = ("Hier is de vertaling:\n1. Chili staat bovenaan [1]\n   met 73,07 punten.\n"
           "2) De eerste.\n9. extra")
    assert parse_items(raw, 2) == {1: "Chili staat bovenaan met 73,07 punten.", 2: "De eerste."}


def test_a_translation_must_keep_every_figure_and_be_in_the_asked_language() -> None:
    line = foreign_lines(quoted_answer(), "nl")[0]
    assert accepted(line, "Chili staat bovenaan de index met 73.07 punten, gevolgd door "
                    "Brazilië en Uruguay.", "nl")
    assert not accepted(line, "Chili staat bovenaan de index met 37,07 punten, gevolgd door "
                        "Brazilië en Uruguay.", "nl")
    assert not accepted(line, SPANISH, "nl")  # copied, not translated
    assert not accepted(line, "", "nl")


def test_translated_lines_replace_the_quotes_and_the_note_says_so() -> None:
    SEEN.clear()
    reply = (
        "1. Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en Uruguay.\n"
        "2. De eerste editie verscheen in 2023 en besloeg 12 landen."
    )
    events = list(translate_answer(RecordingModel(messages=iter([AIMessage(reply)])),
                                   quoted_answer(), "nl", "llamacpp"))
    answer = final_answer(events)
    assert any(isinstance(e, str) for e in events)  # streamed as it came
    prompt = str(SEEN[0][0].content)
    assert "Nederlands" in prompt and SPANISH in prompt and ENGLISH in prompt
    assert DUTCH not in prompt and ROW not in prompt
    lines = answer.answer.splitlines()
    # Each translation, with its quote under it as written.
    assert lines[1:5] == [
        "- Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en Uruguay. "
        "[1] (ook Engels [4])",
        f"{ORIGINAL_PREFIX}{SPANISH}",
        "- De eerste editie verscheen in 2023 en besloeg 12 landen. [2]",
        f"{ORIGINAL_PREFIX}{ENGLISH}",
    ]
    assert lines[5] == f"- {DUTCH} [3]" and lines[6] == f"- {ROW} [1]"
    assert quoted_note("nl", ["es", "en"]) not in answer.answer
    assert lines[-1] == text("nl", "translated_note", languages="Spaans en Engels")
    assert answer.generator == "llamacpp" and answer.citations == quoted_answer().citations


def test_a_rejected_line_stays_quoted_and_its_language_is_still_named() -> None:
    reply = (
        "1. Chili staat bovenaan met 70 punten.\n"  # a changed figure: rejected
        "2. De eerste editie verscheen in 2023 en besloeg 12 landen."
    )
    answer = final_answer(translate_answer(fake(reply), quoted_answer(), "nl", "llamacpp"))
    assert f"- {SPANISH} [1] (ook Engels [4])" in answer.answer
    assert quoted_note("nl", ["es"]) not in answer.answer  # a model did try
    assert text("nl", "untranslated_note", languages="Spaans") in answer.answer
    assert text("nl", "translated_note", languages="Engels") in answer.answer


def test_nothing_accepted_leaves_the_quotes_and_says_why() -> None:
    answer = final_answer(translate_answer(fake("Sorry, I cannot."), quoted_answer(), "nl", "x"))
    assert answer.generator == "extractive" and answer.citations == quoted_answer().citations
    assert answer.answer == quoted_answer().answer.replace(
        quoted_note("nl", ["es", "en"]),
        text("nl", "untranslated_note", languages="Spaans en Engels"),
    )


def test_the_header_loses_quoted_in_once_every_line_is_translated() -> None:
    quoted_in = text("nl", "quoted_in", language="Spaans")
    header = f"De punten van “Aanbevelingen” in Informe: {quoted_in}"
    quoted = CitedAnswer(f"{header}\n- {SPANISH} [1]", "nl", [cite(1, "es")])
    reply = "1. Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en Uruguay."
    answer = final_answer(translate_answer(fake(reply), quoted, "nl", "llamacpp"))
    assert answer.answer.splitlines()[0] == "De punten van “Aanbevelingen” in Informe:"


def test_a_model_failure_gives_the_quoted_answer_with_the_reason() -> None:
    answer = final_answer(translate_answer(BrokenModel(messages=iter([])), quoted_answer(), "nl",
                                           "llamacpp"))
    assert answer.generator == "extractive"
    assert "llama_decode returned -3" in answer.answer
    assert quoted_answer().answer in answer.answer


def test_nothing_foreign_asks_no_model() -> None:
    quoted = CitedAnswer(f"{text('nl', 'according_to')}\n- {DUTCH} [1]", "nl", [cite(1, "nl")])
    broken = BrokenModel(messages=iter([]))
    assert final_answer(translate_answer(broken, quoted, "nl", "x")) == quoted


def test_the_bundled_model_translates_and_other_models_write() -> None:
    assert Settings(generator="auto").answer_style == "translate"
    assert Settings(generator="auto", llm_model_path="bundled").answer_style == "translate"
    assert Settings(generator="auto", llm_model_path="/m/qwen7b.gguf").answer_style == "write"
    assert Settings(generator="ollama").answer_style == "write"
    assert Settings(generator="ollama", llm_style="translate").answer_style == "translate"


class VectorsByText:
    """Embeddings that give sentences sharing their first word one vector."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        axes = {"Chili": [1.0, 0.0], "Chile": [1.0, 0.0], "De": [0.0, 1.0], "The": [0.0, 1.0]}
        return [axes.get(t.split()[0], [0.6, 0.8]) for t in texts]


def test_two_reports_saying_one_thing_become_one_line_once_translated() -> None:
    quoted = CitedAnswer(
        "\n".join([
            text("nl", "according_to"),
            f"- {SPANISH} [1]",
            "- Chile leads the index with 73.07 points, ahead of Brazil and Uruguay. [2]",
            f"- {ENGLISH} [3]",
        ]),
        "nl", [cite(1, "es"), cite(2, "en"), cite(3, "en")],
    )
    reply = (
        "1. Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en Uruguay.\n"
        "2. Chili leidt de index met 73,07 punten, voor Brazilië en Uruguay.\n"
        "3. De eerste editie verscheen in 2023 en besloeg 12 landen."
    )
    answer = final_answer(translate_answer(fake(reply), quoted, "nl", "llamacpp",
                                           VectorsByText()))  # type: ignore[arg-type]
    lines = answer.answer.splitlines()
    bullets = [line for line in lines if line.startswith("- ")]
    assert lines[2] == f"{ORIGINAL_PREFIX}{SPANISH}"  # the first wording's quote
    assert bullets == [
        "- Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en Uruguay."
        " [1][2]",
        "- De eerste editie verscheen in 2023 en besloeg 12 landen. [3]",
    ]


def test_a_translation_that_loses_a_place_stays_quoted() -> None:
    body = "Goed opgeleide specialisten vertrekken naar de Verenigde Staten en naar Europa."
    line = foreign_lines(CitedAnswer(f"x\n- {body} [1]", "es", [cite(1, "nl")]), "es")[0]
    assert accepted(line, "Los especialistas se van a Estados Unidos y a Europa.", "es")
    assert not accepted(line, "Los especialistas se desplazan hacia el Este y el Oeste.", "es")
    assert not accepted(line, "Los especialistas se van a Estados Unidos y a Europa.", "es",
                        similarity=-1.0)


class DiesMidway(GenericFakeChatModel):
    """Writes a few pieces, then fails as a crashed runtime would."""

    def _stream(self, *args: Any, **kwargs: Any):  # noqa: ANN202
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        yield ChatGenerationChunk(message=AIMessageChunk(content="1. Chili staat"))
        raise RuntimeError("llama_decode returned -1")


def test_a_model_that_dies_mid_translation_gives_the_quotes_with_the_reason() -> None:
    events = list(translate_answer(DiesMidway(messages=iter([])), quoted_answer(), "nl", "x"))
    assert "1. Chili staat" in "".join(e for e in events if isinstance(e, str))
    answer = final_answer(events)
    assert answer.generator == "extractive" and "llama_decode returned -1" in answer.answer
    assert quoted_answer().answer in answer.answer


CLOSED: list[bool] = []
WRITTEN: list[str] = []


class WritesOnAndOn(GenericFakeChatModel):
    """Translates the first line, starts the second, and goes on for 10,000 pieces."""

    def _stream(self, *args: Any, **kwargs: Any):  # noqa: ANN202
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        try:
            first = ("1. Chili staat bovenaan de index met 73,07 punten, gevolgd door "
                     "Brazilië en Uruguay.\n2. De eerste")
            for piece in [first, *[" editie"] * 10_000]:
                WRITTEN.append(piece)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            CLOSED.append(True)


def test_at_the_deadline_the_model_stops_and_the_untranslated_lines_stay_quoted() -> None:
    CLOSED.clear()
    WRITTEN.clear()
    answer = final_answer(translate_answer(WritesOnAndOn(messages=iter([])), quoted_answer(),
                                           "nl", "llamacpp", deadline=0.0))
    # The model's stream was closed at once: not left decoding, nor read to its end.
    assert CLOSED == [True] and len(WRITTEN) <= 2
    lines = answer.answer.splitlines()
    assert lines[1].startswith("- Chili staat bovenaan de index met 73,07 punten")
    # The second line was being written when time ran out: cut short, so quoted.
    assert f"- {ENGLISH} [2]" in lines
    assert text("nl", "untranslated_late", languages="Engels") in lines
    assert text("nl", "translated_note", languages="Spaans") == lines[-1]


def test_no_deadline_lets_the_model_finish() -> None:
    reply = ("1. Chili staat bovenaan de index met 73,07 punten, gevolgd door Brazilië en "
             "Uruguay.\n2. De eerste editie verscheen in 2023 en besloeg 12 landen.")
    answer = final_answer(translate_answer(fake(reply), quoted_answer(), "nl", "llamacpp",
                                           deadline=None))
    assert "untranslated" not in answer.answer and ENGLISH not in answer.answer.split("\n")[3]
