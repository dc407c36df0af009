"""Generated answers and follow-up questions as LangChain (LCEL) chains.

The extractive answerer stays in charge of "is there an answer at all": when
it finds none, no model is asked, so nothing is made up from unrelated
passages. Otherwise the model writes the answer from numbered passages in the
question's language, the citations are checked (`assistant.citations`), and
an answer that cites nothing valid, or a model that fails, falls back to the
extractive answer with a note saying so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from assistant.answer import CitedAnswer, History, final_answer
from assistant.citations import check_answer
from assistant.extractive import ExtractiveAnswerer, not_found
from assistant.guard import defuse
from assistant.messages import language_name, messages, text
from assistant.names import find_name_spans
from assistant.store import SearchHit
from assistant.textnorm import fold, fold_with_offsets

log = logging.getLogger(__name__)


def format_passages(hits: Sequence[SearchHit]) -> str:
    """Numbered passages for a prompt, defused.

    Only the number and the text: small models copy a source line such as
    "(Title, p. 5)" into their answer, and the citation list shows the source.
    """
    return "\n\n".join(f"[{n}] {defuse(hit.text)}" for n, hit in enumerate(hits, 1))


def _prompt_values(language: str) -> dict[str, str]:
    return {
        "language": language_name(language, language),
        "not_found": text(language, "not_found"),
    }


def answer_prompt(language: str) -> ChatPromptTemplate:
    m = messages(language)
    return ChatPromptTemplate.from_messages(
        [("system", m["system"]), ("human", m["user"])]
    ).partial(**_prompt_values(language))


def answer_chain(model: BaseChatModel, language: str) -> Runnable[dict[str, Any], str]:
    return answer_prompt(language) | model | StrOutputParser()


def condense_chain(model: BaseChatModel, language: str) -> Runnable[dict[str, Any], str]:
    prompt = ChatPromptTemplate.from_messages([("human", messages(language)["condense"])])
    return prompt | model | StrOutputParser()


def format_history(history: History, turns: int = 3) -> str:
    lines = []
    for question, answer in list(history)[-turns:]:
        lines.append(f"Q: {question}")
        lines.append(f"A: {answer[:400]}")
    return "\n".join(lines)


def standalone_question(
    question: str, history: History | None, language: str, model: BaseChatModel | None = None
) -> str:
    """A follow-up ("¿y Kenia?") rewritten to stand alone, using the chat history."""
    if not history:
        return question
    if model is not None:
        try:
            rewritten = condense_chain(model, language).invoke(
                {"history": format_history(history), "question": question}
            )
            rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten else ""
            if rewritten:
                return rewritten
        except Exception as err:  # noqa: BLE001 - the heuristic below still works
            log.warning("rewriting the follow-up question failed: %s", err)
    return heuristic_standalone(question, history)


_FOLLOW_UP_START = re.compile(
    r"^[¿¡\s]*(and|what about|how about|en|y|e|en hoe zit het met|wat dan met|"
    r"en wat|y qué|y en|¿y)\b",
    re.IGNORECASE,
)


def heuristic_standalone(question: str, history: History) -> str:
    """Without a model: swap the name in the previous question, or join the two.

    "What did Kenya spend?" + "And Ghana?" → "What did Ghana spend?"
    """
    previous = history[-1][0]
    words = question.split()
    is_follow_up = len(words) <= 4 or bool(_FOLLOW_UP_START.search(question))
    if not is_follow_up:
        return question
    new_names = _names_in(question)
    old_names = _names_in(previous)
    if new_names and old_names:
        rewritten = previous
        for old in old_names:
            rewritten = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new_names[0], rewritten)
        return rewritten
    core = _FOLLOW_UP_START.sub("", question).strip(" ?¿")
    return f"{previous.rstrip(' ?')} — {core}?" if core else previous


def _names_in(sentence: str) -> list[str]:
    """The country and language names (CLDR) in a sentence, spelled as written there."""
    folded, offsets = fold_with_offsets(sentence)
    return [
        sentence[offsets[a] : offsets[b - 1] + 1] for a, b in find_name_spans(folded)
    ]


def prompt_passages(
    hits: Sequence[SearchHit], quoted: CitedAnswer, limit: int
) -> list[SearchHit]:
    """The passages a model reads: the best one and those the quoted answer drew on, in
    rank order, at most `limit` (0: all). Reading the prompt is most of a small model's
    time on a CPU, and passages that no gate let through mostly add noise."""
    if limit <= 0 or len(hits) <= limit:
        return list(hits)
    cited = {c.text for c in quoted.citations}
    chosen = [h for i, h in enumerate(hits) if i == 0 or h.text in cited]
    for hit in hits:  # fewer cited than the limit: fill up in rank order
        if len(chosen) >= limit:
            break
        if hit not in chosen:
            chosen.append(hit)
    ranked = [h for h in hits if h in chosen]
    return ranked[:limit]


class GeneratedAnswerer:
    """A chat model answers from passages; checked citations; extractive fallback."""

    def __init__(
        self,
        model: BaseChatModel,
        name: str,
        embedder: Embeddings,
        extractive: ExtractiveAnswerer,
        max_passages: int = 0,
    ) -> None:
        self.model = model
        self.name = name
        self.embedder = embedder
        self.extractive = extractive
        self.max_passages = max_passages

    def answer(
        self, question: str, language: str, vector: Sequence[float], hits: Sequence[SearchHit]
    ) -> CitedAnswer:
        return final_answer(self.stream(question, language, vector, hits))

    def stream(
        self, question: str, language: str, vector: Sequence[float], hits: Sequence[SearchHit]
    ) -> Iterator[str | CitedAnswer]:
        """Yields the model's text as it comes, then the checked `CitedAnswer`."""
        quoted = self.extractive.answer(question, language, vector, hits)
        if not quoted.found:
            yield quoted
            return
        hits = prompt_passages(hits, quoted, self.max_passages)
        inputs = {"passages": format_passages(hits), "question": question}
        pieces: list[str] = []
        try:
            for piece in answer_chain(self.model, language).stream(inputs):
                pieces.append(piece)
                yield piece
        except Exception as err:  # noqa: BLE001 - any model failure falls back, with a note
            log.warning("generator %s failed: %s", self.name, err)
            yield quoted.with_note(text(language, "generator_failed", reason=short_reason(err)))
            return
        yield self.finish("".join(pieces), language, hits, quoted)

    def finish(
        self, raw: str, language: str, hits: Sequence[SearchHit], quoted: CitedAnswer
    ) -> CitedAnswer:
        raw = raw.strip()
        refusal = text(language, "not_found")
        if not raw or fold(refusal[:40]) in fold(raw):
            return not_found(language)
        return checked_or_fallback(raw, hits, self.embedder, language, quoted, self.name)


def checked_or_fallback(
    raw: str,
    hits: Sequence[SearchHit],
    embedder: Embeddings,
    language: str,
    fallback: CitedAnswer,
    generator: str,
    heading: str = "",
) -> CitedAnswer:
    """A model's text with its citations checked; `fallback` (noted) if none is valid."""
    checked = check_answer(raw, hits, embedder, text(language, "unsupported_flag"), language)
    if not checked.has_valid_citation:
        return fallback.with_note(text(language, "no_valid_citation"))
    return CitedAnswer(
        f"{heading}\n{checked.text}" if heading else checked.text,
        language,
        checked.citations,
        found=True,
        generator=generator,
        invalid_markers=checked.invalid_markers,
        unsupported=checked.unsupported,
    )


def short_reason(err: Exception) -> str:
    """A model failure in one line, for the note over the quoted fallback."""
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    return message[:160]

