"""The web UI: a chat over the indexed documents, with the citations of every answer.

It calls the same Python API as the CLI (`Assistant.ask`, `Assistant.documents`) and
nothing else. Everything shown that comes from a document (answer sentences, titles,
sections, passages) is untrusted, so it is escaped before it reaches the Markdown
renderer: a passage containing `<script>` or `[x](javascript:...)` shows as plain text.

Run with `assistant serve` or `python app.py`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from typing import Any

import gradio as gr

from assistant.core import Assistant, InvalidQuestionError
from assistant.language import DEFAULT_LANGUAGE, answer_language
from assistant.settings import Settings
from assistant.store import DocumentRecord

log = logging.getLogger(__name__)

AUTO = "auto"
LANGUAGE_CHOICES: list[tuple[str, str]] = [
    ("Auto (question's language)", AUTO),
    ("Nederlands", "nl"),
    ("Español", "es"),
    ("English", "en"),
]
PASSAGE_DISPLAY_CHARS = 600
INTERNAL_ERROR_MESSAGE = (
    "Sorry, something went wrong while answering this question. "
    "The details are in the server log."
)
NO_SOURCES = "*The sources of the last answer appear here.*"

# Document text is escaped with CommonMark backslash escapes, but only where a character
# means something to the renderer (marked, GitHub flavour), so that the text (and the
# aria-label gradio copies it into) stays readable. After html.escape has turned < > & into
# entities, what is left is: inline syntax (links and images need [ ], emphasis * _ ~,
# code `, tables |, and the backslash itself); GFM autolinks (scheme://, www., e-mail @);
# and block syntax at the start of a line (headings, lists, quotes, setext underlines).
_INLINE_SYNTAX = re.compile(r"([\\`*_~\[\]|@])")
_AUTOLINK_SYNTAX = re.compile(r"(?<=\w)(:)(?=//)|(?i:(?<=\bwww)(\.))")
_BLOCK_MARKER = re.compile(r"^([ \t]*)([#+=-]|\d+[.)])", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")
_BULLET = "- "

CSS = """
#sources blockquote { font-size: 0.92em; margin: 0.3em 0 1em 0; }
#chat .message { font-size: 0.97em; }
"""


def _theme() -> gr.themes.Base:
    # The default theme declares Source Sans Pro at 400 and 600, but the 600 file bundled
    # with gradio 6.31 holds only ~55 glyphs, so bold text came out in mixed fonts.
    # Declaring 400 and 700 makes the browser use the complete bold file instead.
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=(font, "ui-sans-serif", "system-ui", "sans-serif"))


def escape_text(value: object) -> str:
    """Untrusted text -> Markdown that renders as exactly that text."""
    escaped = html.escape(str(value), quote=False)
    escaped = _INLINE_SYNTAX.sub(r"\\\1", escaped)
    escaped = _AUTOLINK_SYNTAX.sub(lambda m: "\\" + m.group(0), escaped)
    return _BLOCK_MARKER.sub(_escape_block_marker, escaped)


def _escape_block_marker(match: re.Match[str]) -> str:
    indent, marker = match.groups()
    # In "12. text" it is the dot after the digits that makes a list item.
    return f"{indent}{marker[:-1]}\\{marker[-1]}"


def _one_line(value: object) -> str:
    return _WHITESPACE.sub(" ", str(value)).strip()


def truncate(value: str, limit: int = PASSAGE_DISPLAY_CHARS) -> str:
    """Shorten at a word boundary, so long passages do not flood the page."""
    text = _one_line(value)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + " …"


def citation_heading(citation: dict[str, Any]) -> str:
    """`[n] title — file, p. X, section`, escaped."""
    where = f"{citation.get('file', '')}, p. {citation.get('page', '?')}"
    section = _one_line(citation.get("section") or "")
    if section:
        where += f", {section}"
    return (
        f"\\[{int(citation.get('n', 0))}\\] {escape_text(_one_line(citation.get('document', '')))}"
        f" — {escape_text(where)}"
    )


def render_answer(answer: dict[str, Any]) -> str:
    """The chat message: the answer, then one line per citation."""
    lines = []
    for line in str(answer.get("answer", "")).splitlines():
        # The answerer lists its sentences as "- ..." lines; keep them a Markdown list
        # and escape only the document text after the bullet.
        if line.startswith(_BULLET):
            lines.append(_BULLET + escape_text(line[len(_BULLET) :]))
        else:
            lines.append(escape_text(line))
    message = "\n".join(lines)
    citations = answer.get("citations") or []
    if citations:
        message += "\n\n**Sources**\n" + "\n".join(citation_heading(c) for c in citations)
    return message


def render_sources(answer: dict[str, Any]) -> str:
    """The Sources panel: every citation of the last answer with its passage."""
    citations = answer.get("citations") or []
    if not citations:
        return NO_SOURCES
    blocks = [
        f"**{citation_heading(c)}**\n\n> {escape_text(truncate(str(c.get('text', ''))))}"
        for c in citations
    ]
    return "\n\n".join(blocks)


def render_documents(records: Sequence[DocumentRecord]) -> str:
    if not records:
        return "No documents are indexed yet. Add some with `assistant ingest PATH`."
    rows = [
        "| Title | File | Language | Pages | Chunks |",
        "|---|---|---|---:|---:|",
    ]
    for d in sorted(records, key=lambda r: (r.title.lower(), r.file_name)):
        rows.append(
            f"| {escape_text(_one_line(d.title))} | {escape_text(d.file_name)} | "
            f"{escape_text(d.language)} | {int(d.pages)} | {int(d.chunks)} |"
        )
    return "\n".join(rows)


def _language_arg(language: str | None) -> str | None:
    return None if not language or language == AUTO else language


def _error_answer(message: str, language: str, kind: str) -> dict[str, Any]:
    return {
        "answer": message,
        "language": language,
        "citations": [],
        "found": False,
        "error": kind,
    }


def answer_question(assistant: Assistant, question: str, language: str | None) -> dict[str, Any]:
    """`Assistant.ask` as a JSON-ready dict that never raises.

    Besides `CitedAnswer.to_dict()` the dict carries `found` and `error` (None, or
    "invalid_question" / "internal"), so API clients can tell a refusal from an answer.
    """
    explicit = _language_arg(language)
    try:
        answer = assistant.ask(question or "", language=explicit)
    except InvalidQuestionError as err:
        # The message is already in the question's language and meant for users.
        try:
            lang = answer_language(question or "", explicit)
        except ValueError:
            lang = DEFAULT_LANGUAGE
        return _error_answer(str(err), lang, "invalid_question")
    except Exception:  # noqa: BLE001 - the page shows a short message, the log the traceback
        log.exception("answering %r failed", question)
        return _error_answer(INTERNAL_ERROR_MESSAGE, explicit or DEFAULT_LANGUAGE, "internal")
    return {**answer.to_dict(), "found": answer.found, "error": None}


def list_documents(assistant: Assistant) -> str:
    try:
        return render_documents(assistant.documents())
    except Exception:  # noqa: BLE001 - e.g. an index built with another embedder
        log.exception("listing documents failed")
        return "The document list could not be read. The details are in the server log."


def show_answer(
    question: str, answer: dict[str, Any], history: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], str, str]:
    """Append the exchange to the chat; returns (chat, sources panel, new textbox value)."""
    messages = list(history or [])
    shown_question = _one_line(question or "")
    if shown_question:
        messages.append({"role": "user", "content": escape_text(shown_question)})
    messages.append({"role": "assistant", "content": render_answer(answer)})
    # After an internal error the question stays in the box so it can be sent again.
    keep = question if answer.get("error") == "internal" else ""
    return messages, render_sources(answer), keep


def build_app(assistant: Assistant) -> gr.Blocks:
    """The UI around one `Assistant`. The answer step is the public API endpoint `ask`."""

    def ask(question: str, language: str) -> dict[str, Any]:
        """Answer a question from the indexed documents, with numbered citations.

        Args:
            question: the question, in Dutch, Spanish or English.
            language: answer language: "auto" (the question's), "nl", "es" or "en".
        """
        return answer_question(assistant, question, language)

    def documents() -> str:
        return list_documents(assistant)

    with gr.Blocks(title="Document assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Document assistant\n"
            "Ask about the indexed reports in Dutch, Spanish or English. "
            "Every answer cites document, page and section."
        )
        chat = gr.Chatbot(
            elem_id="chat",
            label="Chat",
            height=460,
            # Answers quote documents: no LaTeX, no raw HTML, only escaped Markdown.
            latex_delimiters=[],
            sanitize_html=True,
            allow_tags=False,
            feedback_options=None,
            buttons=["copy"],
            placeholder="Ask a question about the documents.",
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                elem_id="question",
                show_label=False,
                placeholder="Your question, e.g. Welke landen leiden de ILIA 2025?",
                lines=1,
                max_lines=4,
                scale=6,
                autofocus=True,
            )
            language = gr.Dropdown(
                LANGUAGE_CHOICES,
                value=AUTO,
                elem_id="language",
                label="Answer language",
                scale=2,
                min_width=160,
            )
            send = gr.Button("Send", elem_id="send", variant="primary", scale=1, min_width=90)
        gr.Markdown("### Sources")
        sources = gr.Markdown(NO_SOURCES, elem_id="sources", latex_delimiters=[])
        with gr.Accordion("Documents", open=False, elem_id="documents"):
            documents_list = gr.Markdown(elem_id="documents-list", latex_delimiters=[])
        # The raw answer dict: what the API endpoint returns, and what the chat renders.
        answer_json = gr.JSON(visible=False)

        gr.on(
            triggers=[send.click, question.submit],
            fn=ask,
            inputs=[question, language],
            outputs=answer_json,
            api_name="ask",
            show_progress_on=chat,
        ).then(
            show_answer,
            inputs=[question, answer_json, chat],
            outputs=[chat, sources, question],
            api_visibility="private",
            show_progress="hidden",
        )
        demo.load(documents, outputs=documents_list, api_name="documents")
    return demo


def launch(settings: Settings, **launch_kwargs: Any) -> None:
    """Serve the UI on settings.host:settings.port; keyword arguments go to `Blocks.launch`."""
    demo = build_app(Assistant(settings))
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "css": CSS,
        "theme": _theme(),
    }
    options.update(launch_kwargs)
    demo.launch(**options)


if __name__ == "__main__":
    launch(Settings.load())
