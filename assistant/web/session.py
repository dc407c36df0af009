"""The web UI's view of the Python API: answers as JSON-ready dicts that never raise,
the generator chosen per browser session, page images, and the UI language."""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.answer import CitedAnswer, History
from assistant.core import Assistant, InvalidQuestionError
from assistant.highlight import supporting_sentences
from assistant.language import DEFAULT_LANGUAGE, SUPPORTED, answer_language
from assistant.messages import ui_text
from assistant.store import DocumentRecord
from assistant.web.render import render_sources

log = logging.getLogger(__name__)

AUTO = "auto"
GENERATORS = ("extractive", "auto", "llamacpp", "ollama", "openai")
GENERATOR_FIELDS = ("generator", "llm_model", "llm_model_path", "llm_base_url", "llm_api_key")
PAGE_IMAGE_WIDTH = 700
MAX_VARIANTS = 8


def ui_language(choice: str | None, accept_language: str = "") -> str:
    """The interface language: the one chosen, else the browser's first supported one."""
    if choice in SUPPORTED:
        return str(choice)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in SUPPORTED:
            ranked.append((-quality, i, code))
    return sorted(ranked)[0][2] if ranked else "en"


@functools.cache
def _answerable_questions(path: Path) -> tuple[dict[str, Any], ...]:
    """The answerable entries of a questions file; read once, as the UI asks on every relabel."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ()
    return tuple(q for q in data.get("questions", []) if q.get("answerable"))


def example_questions(
    path: Path, per_language: int, indexed: Collection[str] | None = None
) -> dict[str, list[str]]:
    """Answerable questions of the sample corpus, per language; whole-sentence ones first.

    With `indexed` (file names of the live documents), only questions whose sources are all
    indexed are offered: an example button must not lead to "not found".
    """
    entries = list(_answerable_questions(path))
    if indexed is not None:
        live = set(indexed)
        entries = [
            q for q in entries
            if q.get("sources") and all(s.get("document") in live for s in q["sources"])
        ]
    entries.sort(key=lambda q: q.get("kind") != "full")  # stable: file order within a kind
    found: dict[str, list[str]] = {}
    for q in entries:
        shown = found.setdefault(str(q.get("language")), [])
        if len(shown) < per_language:
            shown.append(str(q["question"]))
    return found


def payload(answer: CitedAnswer) -> dict[str, Any]:
    """A `CitedAnswer` as the UI and the API see it, with highlight sentences per source."""
    highlights = supporting_sentences(answer.answer, answer.citations, answer.language)
    data = answer.to_dict()
    for c in data["citations"]:
        c["highlight"] = highlights.get(c["n"], [])
    data.update(found=answer.found, error=None, generator=answer.generator, notes=answer.notes)
    return data


def error_payload(message: str, language: str, kind: str) -> dict[str, Any]:
    return {"answer": message, "language": language, "citations": [], "found": False,
            "error": kind, "generator": "", "notes": []}


@dataclass(frozen=True)
class Waiting:
    """No progress on the answer for `seconds` (it is still being worked out)."""

    seconds: int


# How long an answer may make no progress before the chat says it is still working.
NOTICE_SECONDS = 5.0


class Session:
    """What the UI's event handlers call. Thread-safe: gradio runs handlers in threads."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._variants: dict[tuple[tuple[str, str], ...], Assistant] = {}
        self._lock = threading.Lock()

    # -- generator choice ---------------------------------------------------------

    def default_generator(self) -> dict[str, str]:
        return {name: str(getattr(self.assistant.settings, name)) for name in GENERATOR_FIELDS}

    def assistant_for(self, generator: dict[str, str] | None) -> Assistant:
        """The assistant for a session's generator choice (sharing the index)."""
        if not generator or generator == self.default_generator():
            return self.assistant
        key = tuple(sorted((k, str(v)) for k, v in generator.items() if k in GENERATOR_FIELDS))
        with self._lock:
            found = self._variants.get(key)
            if found is None:
                if len(self._variants) >= MAX_VARIANTS:
                    self._variants.pop(next(iter(self._variants)))
                found = self.assistant.with_settings(**dict(key))
                found.start_local()  # with "auto" (shares a model already loaded)
                self._variants[key] = found
            return found

    def check_generator(self, generator: dict[str, str]) -> str:
        """"" if the generator can be used now, else why not."""
        if generator.get("generator") not in GENERATORS:
            return f"unknown generator '{generator.get('generator')}'"
        if generator["generator"] == "extractive":
            return ""
        from assistant.generation import (
            GeneratorUnavailableError,
            check_reachable,
            make_chat_model,
        )
        from assistant.generation.bundled import resolve_model_file

        candidate = self.assistant.settings.replace(**generator)
        try:
            if candidate.generator in ("llamacpp", "auto"):
                # Loading the model takes seconds: check the file now, load on first use.
                resolve_model_file(candidate)
            else:
                check_reachable(candidate)
                make_chat_model(candidate)  # e.g. a missing model name
        except (GeneratorUnavailableError, ValueError) as err:
            return str(err)
        return ""

    def status_line(self, lang: str, generator: dict[str, str] | None) -> str:
        gen = generator or self.default_generator()
        name = gen.get("generator", "extractive")
        path_name = Path(gen.get("llm_model_path", "")).name
        model = path_name if name == "llamacpp" else gen.get("llm_model", "")
        shown = f"{name} ({model})" if name != "extractive" and model else name
        if name == "auto":
            local = self.assistant_for(gen).local.status()
            shown = ui_text(lang, f"local_{local.state}", model=local.detail, detail=local.detail)
        try:
            records = self.assistant.documents()
        except Exception:  # noqa: BLE001 - the status line must not break the page
            log.exception("listing documents failed")
            records = []
        return ui_text(lang, "status", generator=shown, embedder=self.assistant.embedder.identity,
                       documents=len(records), chunks=sum(r.chunks for r in records))

    # -- answers ------------------------------------------------------------------

    def stream(
        self, question: str, language: str | None, history: Sequence[Sequence[str]],
        generator: dict[str, str] | None = None, ui_lang: str = "en",
    ) -> Iterator[str | Waiting | dict[str, Any]]:
        """Pieces of the answer text, then the answer dict (also for errors).

        The answer is worked out in a thread of its own. While it makes no progress for
        `NOTICE_SECONDS`, `Waiting` events say so; after `answer_timeout` seconds without
        progress the stream ends with a "timeout" error. The work goes on to its end (it
        is bounded, see `assistant.extractive`), but this request no longer waits."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def work() -> None:
            try:
                for event in self._answer(question, language, history, generator, ui_lang):
                    events.put(("event", event))
            finally:
                events.put(("end", None))

        threading.Thread(target=work, daemon=True, name="answer").start()
        limit = self.assistant.settings.answer_timeout
        quiet_since = time.monotonic()
        while True:
            try:
                kind, event = events.get(timeout=NOTICE_SECONDS)
            except queue.Empty:
                quiet = time.monotonic() - quiet_since
                if limit > 0 and quiet >= limit:
                    log.warning("no progress on %r for %.0f s: stopped waiting", question, quiet)
                    lang = language if language in SUPPORTED else ui_lang
                    yield error_payload(ui_text(lang, "answer_timeout", seconds=round(quiet)),
                                        lang, "timeout")
                    return
                yield Waiting(round(quiet))
                continue
            if kind == "end":
                return
            quiet_since = time.monotonic()
            yield event

    def _answer(
        self, question: str, language: str | None, history: Sequence[Sequence[str]],
        generator: dict[str, str] | None, ui_lang: str,
    ) -> Iterator[str | dict[str, Any]]:
        explicit = language if language in SUPPORTED else None
        past: History = [(str(q), str(a)) for q, a in history]
        try:
            for event in self.assistant_for(generator).stream(
                question or "", explicit, history=past or None
            ):
                yield payload(event) if isinstance(event, CitedAnswer) else event
        except InvalidQuestionError as err:
            # The message is already in the question's language and meant for users.
            try:
                lang = answer_language(question or "", explicit)
            except ValueError:
                lang = DEFAULT_LANGUAGE
            yield error_payload(str(err), lang, "invalid_question")
        except Exception:  # noqa: BLE001 - the page shows a short message, the log the cause
            log.exception("answering %r failed", question)
            lang = explicit or ui_lang
            yield error_payload(ui_text(lang, "internal_error"), lang, "internal")

    def ask(self, question: str, language: str | None, history: Sequence[Sequence[str]],
            generator: dict[str, str] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for event in self.stream(question, language, history, generator):
            if isinstance(event, dict):
                result = event
        return result

    def summarize(self, document: str, section: str, language: str | None,
                  generator: dict[str, str] | None) -> dict[str, Any]:
        from assistant.summarize import SummaryError

        explicit = language if language in SUPPORTED else None
        try:
            answer = self.assistant_for(generator).summarize(document, section or None, explicit)
        except SummaryError as err:
            return error_payload(str(err), explicit or "en", "not_found")
        except Exception:  # noqa: BLE001
            log.exception("summarising %r failed", document)
            lang = explicit or "en"
            return error_payload(ui_text(lang, "internal_error"), lang, "internal")
        return payload(answer)

    # -- sources panel ------------------------------------------------------------

    def sources_html(self, answer: dict[str, Any] | None, lang: str) -> str:
        return render_sources(answer, lang, self.page_images(answer, lang))

    def page_images(
        self, answer: dict[str, Any] | None, lang: str
    ) -> dict[int, tuple[str | None, str]]:
        """Per citation: (data URI of its page with the passage marked, or None, why not)."""
        citations = (answer or {}).get("citations") or []
        if not citations:
            return {}
        try:
            records = {r.doc_id: r for r in self.assistant.documents()}
        except Exception:  # noqa: BLE001
            log.exception("listing documents failed")
            records = {}
        return {int(c["n"]): self._page_image(c, records.get(str(c.get("doc_id"))), lang)
                for c in citations}

    def _page_image(
        self, citation: dict[str, Any], record: DocumentRecord | None, lang: str
    ) -> tuple[str | None, str]:
        from assistant.pages import PageImageError, cached_render_page, data_uri

        if record is None or record.format != "pdf":
            return None, ui_text(lang, "page_image_not_pdf") if record else ""
        source = Path(record.source)
        if not source.is_file():
            return None, ui_text(lang, "page_image_missing")
        try:
            image = cached_render_page(
                source, int(citation.get("page", 1)), marks=[str(citation.get("text", ""))],
                strong=list(citation.get("highlight") or []), width=PAGE_IMAGE_WIDTH,
            )
        except PageImageError:
            log.exception("rendering page %s of %s failed", citation.get("page"), source)
            return None, ui_text(lang, "page_image_missing")
        return data_uri(image), ""
