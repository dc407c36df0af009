"""Summaries: section lookup in three languages, extractive and map-reduce."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from assistant import Assistant
from assistant.summarize import SummaryError, match_section

PATHS = [
    "1. Resumen ejecutivo",
    "4. Los tres niveles",
    "4. Los tres niveles > 4.1 Pioneros",
    "7. Gobernanza",
    "8. Recomendaciones",
    "8. Recomendaciones > 8.1 Cooperación regional",
]


# Words and their counterparts in the document's language, as the index's word bridge
# links them (`TermBridge.links`); the real bridge is exercised by the slow tests.
LINKS = {
    "aanbeveel": {"es": "recomend"},
    "govern": {"es": "gobern"},
    "kopgroep": {"es": "pioner"},
}


@pytest.mark.parametrize(
    ("request_text", "language", "expected"),
    [
        ("8", "en", "8. Recomendaciones"),
        ("summarize section 4.1", "en", "4. Los tres niveles > 4.1 Pioneros"),
        ("vat de aanbevelingen samen", "nl", "8. Recomendaciones"),
        ("resume las recomendaciones", "es", "8. Recomendaciones"),
        ("governance", "en", "7. Gobernanza"),
        ("kopgroep", "nl", "4. Los tres niveles > 4.1 Pioneros"),
    ],
)
def test_sections_by_number_or_name_in_any_language(
    request_text: str, language: str, expected: str
) -> None:
    assert match_section(PATHS, request_text, language, LINKS) == expected


def test_a_name_in_another_language_needs_its_link() -> None:
    assert match_section(PATHS, "kopgroep", "nl") is None


def test_unknown_section_is_none() -> None:
    assert match_section(PATHS, "quantum computing", "en") is None


slow = pytest.mark.slow


@slow
def test_extractive_summary_of_a_section_in_document_order(corpus_assistant: Assistant) -> None:
    summary = corpus_assistant.summarize("ilia-2025-es.pdf", "recomendaciones")
    assert summary.language == "es"
    assert summary.answer.startswith("Resumen de 8. Recomendaciones")
    assert 3 <= len(summary.citations) <= 5
    assert all(c.section.startswith("8") for c in summary.citations)
    pages = [c.page for c in summary.citations]
    assert pages == sorted(pages)
    for c in summary.citations:
        assert f"[{c.n}]" in summary.answer


@slow
def test_summary_language_can_be_chosen(corpus_assistant: Assistant) -> None:
    summary = corpus_assistant.summarize("ilia-2025-en.pdf", "gobernanza", language="nl")
    assert summary.answer.startswith("Samenvatting van 7. Governance")


@slow
def test_unknown_document_or_section_lists_the_choices(corpus_assistant: Assistant) -> None:
    with pytest.raises(SummaryError, match="No indexed document"):
        corpus_assistant.summarize("nonexistent.pdf", language="en")
    with pytest.raises(SummaryError, match="8. Recommendations"):
        corpus_assistant.summarize("ilia-2025-en.pdf", "quantum", language="en")


class CountingModel(GenericFakeChatModel):
    """Answers every call with a cited sentence and counts the calls (in CALLS)."""

    def _generate(self, messages: list[BaseMessage], *args: object, **kwargs: object) -> ChatResult:
        CALLS.append(messages[0].content)
        return super()._generate(messages, *args, **kwargs)


CALLS: list[str] = []


@slow
def test_map_reduce_fits_a_small_context(corpus_assistant: Assistant) -> None:
    CALLS.clear()
    replies = iter([AIMessage(content="La región debe cooperar en regulación y datos [1].")] * 50)
    model = CountingModel(messages=replies)
    small = corpus_assistant.settings.replace(generator="llamacpp", llm_context=700,
                                              llm_max_tokens=100)
    assistant = Assistant(small, chat_model=model)
    summary = assistant.summarize("ilia-2025-es.pdf", "8", language="es")
    # Several map calls (the section does not fit 700 tokens at once) and one reduce.
    assert len(CALLS) >= 3
    assert all(len(prompt) < 700 * 4 for prompt in CALLS)
    assert "combina" in CALLS[-1].lower() or "une estos" in CALLS[-1].lower()
    assert summary.generator == "llamacpp"
    assert summary.citations and summary.citations[0].section.startswith("8")
