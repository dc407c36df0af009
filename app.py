"""The web UI: chat with visible sources, documents, summaries, in three languages.

It calls the same Python API as the CLI (`Assistant`, `Indexer`) and holds no logic of
its own beyond wiring: what is shown is built by `assistant.web` (escaped rendering,
page images, the session's choices), every label comes from `prompts/ui/<lang>.yaml`.

Public API endpoints (for `gradio_client` and scripts): `/ask`, `/documents`,
`/upload`, `/delete`, `/reindex`, `/summarize`, `/outline`.

Run with `assistant serve` or `python app.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.core import Assistant
from assistant.generation.bundled import present_models
from assistant.language import SUPPORTED
from assistant.messages import ui_text
from assistant.settings import Settings
from assistant.web import actions
from assistant.web.render import (
    message_html,
    plain_answer,
    render_answer,
    render_outcomes,
    render_partial,
    render_sources,
)
from assistant.web.session import (
    AUTO,
    GENERATORS,
    Session,
    Waiting,
    example_questions,
    ui_language,
)

LANGUAGE_CHOICES_FIXED = [("Nederlands", "nl"), ("Español", "es"), ("English", "en")]
EXAMPLE_BUTTONS = 4
STATUS_SECONDS = 5.0  # how often the status line is refreshed

CSS = """
#sources .source-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.6em 0.8em; margin-bottom: 0.8em; }
#sources .source-card.flash { outline: 3px solid #f59e0b; }
#sources h4 { margin: 0 0 0.3em 0; }
#sources dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 0.6em;
  font-size: 0.88em; margin: 0 0 0.4em 0; }
#sources dt { font-weight: 600; }
#sources dd { margin: 0; }
#sources blockquote { font-size: 0.92em; margin: 0.3em 0 0.6em 0; white-space: normal; }
#sources mark.support { background: #fde68a; color: inherit; padding: 0 0.1em; }
#sources img.page-image { width: 100%; border: 1px solid var(--border-color-primary); }
#outcomes .outcome-failed, #outcomes .outcome-skipped { color: #b91c1c; }
#outcomes .outcome-indexed { color: #15803d; }
.notice-error { color: #b91c1c; }
#chat .message { font-size: 0.97em; }
"""

# Citation links in the chat point at #source-n; scroll the sources panel instead of
# navigating (gradio opens Markdown links in a new tab).
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#source-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    card.scrollIntoView({behavior: 'smooth', block: 'start'});
    card.classList.add('flash');
    setTimeout(() => card.classList.remove('flash'), 1500);
  }, true);
}
"""

COPY_JS = """
async (text, lang) => {
  if (text) { try { await navigator.clipboard.writeText(text); } catch (e) { console.warn(e); } }
  return [text, lang];
}
"""


def _theme() -> gr.themes.Base:
    # The default theme declares Source Sans Pro at 400 and 600, but the 600 file bundled
    # with gradio 6.31 holds only ~55 glyphs, so bold text came out in mixed fonts.
    # Declaring 400 and 700 makes the browser use the complete bold file instead.
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=(font, "ui-sans-serif", "system-ui", "sans-serif"))


def _language_choices(lang: str) -> list[tuple[str, str]]:
    return [(ui_text(lang, "language_auto"), AUTO), *LANGUAGE_CHOICES_FIXED]


def build_app(assistant: Assistant) -> gr.Blocks:
    """The UI around one `Assistant` (and the index it reads)."""
    session = Session(assistant)
    settings = assistant.settings
    first = "en"
    questions_file = settings.corpus_dir / "questions.yaml"

    def live_examples() -> dict[str, list[str]]:
        indexed = [d.file_name for d in session.assistant.documents()]
        return example_questions(questions_file, EXAMPLE_BUTTONS, indexed)

    examples = live_examples()

    with gr.Blocks(title=ui_text(first, "title"), analytics_enabled=False) as demo:
        ui_lang = gr.State(first)
        browser_lang = gr.State(first)
        history = gr.State([])
        last_answer = gr.State({})
        generator = gr.State(session.default_generator())

        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                header = gr.Markdown(elem_id="header")
                status = gr.Markdown(elem_id="status")
            language = gr.Dropdown(
                _language_choices(first), value=AUTO, elem_id="language",
                label=ui_text(first, "language_label"), scale=1, min_width=170,
            )

        with gr.Tabs(elem_id="tabs"):
            with (
                gr.Tab(ui_text(first, "tab_chat"), id="chat-tab", elem_id="chat-tab") as chat_tab,
                gr.Row(),
            ):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="chat",
                        label=ui_text(first, "chat_label"),
                        height=520,
                        # Answers quote documents: no LaTeX, no raw HTML, only
                        # escaped Markdown.
                        latex_delimiters=[],
                        sanitize_html=True,
                        allow_tags=False,
                        feedback_options=None,
                        # No per-message copy: it would copy the escaped Markdown source.
                        # "Copy answer with sources" copies plain text instead.
                        buttons=[],
                        placeholder=ui_text(first, "chat_placeholder"),
                    )
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            elem_id="question", show_label=False,
                            placeholder=ui_text(first, "question_placeholder"),
                            lines=1, max_lines=4, scale=6, autofocus=True,
                        )
                        send = gr.Button(ui_text(first, "send"), elem_id="send",
                                         variant="primary", scale=1, min_width=90)
                    with gr.Row():
                        new_chat = gr.Button(ui_text(first, "new_conversation"),
                                             elem_id="new-conversation", size="sm")
                        copy = gr.Button(ui_text(first, "copy_answer"), elem_id="copy-answer",
                                         size="sm")
                    examples_label = gr.Markdown(f"**{ui_text(first, 'examples')}**")
                    shown = examples.get(first, [])
                    with gr.Row(elem_id="examples"):
                        example_buttons = [
                            gr.Button(shown[i] if i < len(shown) else "", size="sm",
                                      visible=i < len(shown), elem_classes=["example"])
                            for i in range(EXAMPLE_BUTTONS)
                        ]
                    # Plain text of the last answer with its sources, for the clipboard.
                    copy_text = gr.Textbox(visible="hidden", elem_id="copy-text")
                with gr.Column(scale=2):
                    with gr.Accordion(ui_text(first, "summary_heading"), open=False,
                                      elem_id="summary") as summary_box:
                        summary_doc = gr.Dropdown([], label=ui_text(first, "summary_document"),
                                                  elem_id="summary-document")
                        summary_section = gr.Dropdown(
                            [], label=ui_text(first, "summary_section"),
                            elem_id="summary-section",
                        )
                        summary_lang = gr.Dropdown(
                            _language_choices(first), value=AUTO,
                            label=ui_text(first, "summary_language"),
                            elem_id="summary-language",
                        )
                        summarize = gr.Button(ui_text(first, "summary_button"),
                                              elem_id="summarize", variant="secondary")
                    sources_heading = gr.Markdown(f"### {ui_text(first, 'sources_heading')}")
                    sources = gr.HTML(render_sources(None, first), elem_id="sources")

            with gr.Tab(ui_text(first, "tab_documents"), id="documents-tab",
                        elem_id="documents-tab") as documents_tab:
                upload_help = gr.Markdown()
                files = gr.File(file_count="multiple", label=ui_text(first, "upload_label"),
                                elem_id="upload")
                index = gr.Button(ui_text(first, "index_button"), elem_id="index",
                                  variant="primary")
                outcomes = gr.HTML(elem_id="outcomes")
                outcomes_json = gr.JSON(visible=False)
                documents_heading = gr.Markdown(f"### {ui_text(first, 'documents_heading')}")
                table = gr.Dataframe(
                    headers=actions.table_headers(first), elem_id="documents-table",
                    interactive=False, wrap=True,
                )
                with gr.Row(equal_height=True):
                    doc_pick = gr.Dropdown([], label=ui_text(first, "document_pick"),
                                           elem_id="document-pick", scale=4)
                    delete = gr.Button(ui_text(first, "delete_button"), elem_id="delete",
                                       variant="stop", scale=1)
                    reindex = gr.Button(ui_text(first, "reindex_button"), elem_id="reindex",
                                        scale=1)
                document_message = gr.HTML(elem_id="document-message")

            with gr.Tab(ui_text(first, "tab_settings"), id="settings-tab",
                        elem_id="settings-tab") as settings_tab:
                settings_heading = gr.Markdown()
                generator_choice = gr.Dropdown(
                    list(GENERATORS), value=settings.generator if settings.generator in
                    GENERATORS else "extractive", label=ui_text(first, "generator_label"),
                    elem_id="generator",
                )
                llm_model = gr.Textbox(settings.llm_model, label=ui_text(first, "llm_model_label"),
                                       elem_id="llm-model")
                # The model files present (the bundled one, GGUFs in the data folder);
                # any other path or hf:OWNER/REPO/FILE.gguf can be typed in.
                present = present_models(settings)
                llm_model_path = gr.Dropdown(
                    present, value=settings.llm_model_path or (present[0] if present else ""),
                    allow_custom_value=True, label=ui_text(first, "llm_model_path_label"),
                    elem_id="llm-model-path",
                )
                llm_base_url = gr.Textbox(settings.llm_base_url,
                                          label=ui_text(first, "llm_base_url_label"),
                                          elem_id="llm-base-url")
                llm_api_key = gr.Textbox(label=ui_text(first, "llm_api_key_label"),
                                         type="password", elem_id="llm-api-key")
                apply = gr.Button(ui_text(first, "apply_button"), elem_id="apply")
                generator_message = gr.HTML(elem_id="generator-message")
                embedder_info = gr.Markdown()

        # -- language: every label follows the UI language ---------------------------

        relabelled = [
            header, status, language, chat_tab, chat, question, send, new_chat, copy,
            examples_label, *example_buttons, summary_box, summary_doc, summary_section,
            summary_lang, summarize, sources_heading, sources, documents_tab, upload_help,
            files, index, documents_heading, table, doc_pick, delete, reindex, settings_tab,
            settings_heading, generator_choice, llm_model, llm_model_path, llm_base_url,
            llm_api_key, apply, embedder_info,
        ]

        def section_choices(doc_id: str | None, lang: str) -> list[tuple[str, str]]:
            whole = (ui_text(lang, "summary_whole"), "")
            if not doc_id:
                return [whole]
            return [whole, *[(p, p) for p in session.assistant.outline(doc_id)]]

        def relabel(
            lang: str, gen: dict[str, str], answer: dict[str, Any], doc_id: str | None = None
        ) -> list[Any]:
            t = lambda key, **kw: ui_text(lang, key, **kw)  # noqa: E731
            shown = live_examples().get(lang, [])
            return [
                f"## {t('title')}\n{t('intro')}",
                session.status_line(lang, gen),
                gr.update(label=t("language_label"), choices=_language_choices(lang)),
                gr.update(label=t("tab_chat")),
                gr.update(label=t("chat_label"), placeholder=t("chat_placeholder")),
                gr.update(placeholder=t("question_placeholder")),
                gr.update(value=t("send")),
                gr.update(value=t("new_conversation")),
                gr.update(value=t("copy_answer")),
                f"**{t('examples')}**",
                *[
                    gr.update(value=shown[i], visible=True) if i < len(shown)
                    else gr.update(visible=False)
                    for i in range(EXAMPLE_BUTTONS)
                ],
                gr.update(label=t("summary_heading")),
                gr.update(label=t("summary_document")),
                gr.update(label=t("summary_section"), choices=section_choices(doc_id, lang)),
                gr.update(label=t("summary_language"), choices=_language_choices(lang)),
                gr.update(value=t("summary_button")),
                f"### {t('sources_heading')}",
                session.sources_html(answer, lang),
                gr.update(label=t("tab_documents")),
                t("upload_help", max_mb=f"{settings.max_file_mb:g}"),
                gr.update(label=t("upload_label")),
                gr.update(value=t("index_button")),
                f"### {t('documents_heading')}",
                actions.documents_table(session.assistant, lang),
                gr.update(label=t("document_pick")),
                gr.update(value=t("delete_button")),
                gr.update(value=t("reindex_button")),
                gr.update(label=t("tab_settings")),
                f"### {t('settings_heading')}\n{t('settings_help')}",
                gr.update(label=t("generator_label")),
                gr.update(label=t("llm_model_label")),
                gr.update(label=t("llm_model_path_label")),
                gr.update(label=t("llm_base_url_label")),
                gr.update(label=t("llm_api_key_label")),
                gr.update(value=t("apply_button")),
                t("embedder_info", embedder=session.assistant.embedder.identity),
            ]

        def on_load(
            choice: str, gen: dict[str, str], answer: dict[str, Any], request: gr.Request
        ) -> list[Any]:
            accepted = request.headers.get("accept-language", "") if request else ""
            browser = ui_language(AUTO, accepted)
            lang = ui_language(choice, accepted)
            return [browser, lang, *relabel(lang, gen, answer), *_document_choices(lang)]

        def on_language(
            choice: str, browser: str, gen: dict[str, str], answer: dict[str, Any],
            doc_id: str | None,
        ) -> list[Any]:
            lang = choice if choice in SUPPORTED else browser
            return [lang, *relabel(lang, gen, answer, doc_id)]

        def _document_choices(lang: str) -> list[Any]:
            choices = actions.document_choices(session.assistant)
            return [gr.update(choices=choices, value=None), gr.update(choices=choices, value=None),
                    gr.update(choices=[(ui_text(lang, "summary_whole"), "")], value="")]

        demo.load(
            on_load, inputs=[language, generator, last_answer],
            outputs=[browser_lang, ui_lang, *relabelled, doc_pick, summary_doc, summary_section],
            api_visibility="private",
        )
        # The status line follows the local model as it gets ready (and other processes'
        # indexing); hidden so that the page does not flash a progress bar every tick.
        gr.Timer(STATUS_SECONDS).tick(
            lambda lang, gen: session.status_line(lang, gen), inputs=[ui_lang, generator],
            outputs=status, api_visibility="private", show_progress="hidden",
        )
        language.change(
            on_language, inputs=[language, browser_lang, generator, last_answer, summary_doc],
            outputs=[ui_lang, *relabelled], api_visibility="private", show_progress="hidden",
        )

        # -- chat -------------------------------------------------------------------

        def respond(
            text: str, choice: str, lang: str, chat_messages: list[dict[str, Any]] | None,
            past: list[list[str]], gen: dict[str, str],
        ) -> Iterator[tuple[Any, ...]]:
            messages = list(chat_messages or [])
            shown_question = render_partial(" ".join((text or "").split()))
            if shown_question:
                messages.append({"role": "user", "content": shown_question})
            messages.append({"role": "assistant", "content": ui_text(lang, "thinking")})
            # Send stays off while the answer streams in: a second question would queue
            # behind this one, and Send coming back on tells that the answer is complete.
            busy = gr.update(interactive=False)
            yield messages, gr.update(), "", past, gr.update(), gr.update(), busy
            answer: dict[str, Any] = {}
            for event in session.stream(text, choice, past, gen, lang):
                if isinstance(event, Waiting):
                    note = ui_text(lang, "still_working", seconds=event.seconds)
                    messages[-1] = {"role": "assistant", "content": note}
                    yield messages, gr.update(), "", past, gr.update(), gr.update(), gr.update()
                elif isinstance(event, str):
                    messages[-1] = {"role": "assistant", "content": render_partial(event)}
                    yield messages, gr.update(), "", past, gr.update(), gr.update(), gr.update()
                else:
                    answer = event
            messages[-1] = {"role": "assistant", "content": render_answer(answer, lang)}
            if answer.get("error") is None:
                past = [*past, [" ".join(text.split()), answer.get("answer", "")]]
            # After an error the question stays in the box, to be sent again.
            keep = text if answer.get("error") == "internal" else ""
            yield (messages, session.sources_html(answer, lang), keep, past, answer,
                   plain_answer(answer, lang), gr.update(interactive=True))

        chat_outputs = [chat, sources, question, history, last_answer, copy_text, send]
        gr.on(
            triggers=[send.click, question.submit], fn=respond,
            inputs=[question, language, ui_lang, chat, history, generator],
            outputs=chat_outputs, api_visibility="private", show_progress="hidden",
        )
        for button in example_buttons:
            button.click(
                lambda value: value, inputs=button, outputs=question,
                api_visibility="private", show_progress="hidden",
            ).then(
                respond, inputs=[question, language, ui_lang, chat, history, generator],
                outputs=chat_outputs, api_visibility="private", show_progress="hidden",
            )

        def clear(lang: str) -> tuple[Any, ...]:
            return [], render_sources(None, lang), "", [], {}, "", gr.update(interactive=True)

        for clearing in (new_chat.click, chat.clear):
            # The chat's own bin clears the conversation state and sources too.
            clearing(clear, inputs=ui_lang, outputs=chat_outputs, api_visibility="private",
                     show_progress="hidden")

        def copied(text: str, lang: str) -> None:
            gr.Info(ui_text(lang, "copied" if text else "nothing_to_copy"))

        copy.click(copied, inputs=[copy_text, ui_lang], js=COPY_JS, api_visibility="private",
                   show_progress="hidden")

        # -- summaries ----------------------------------------------------------------

        def pick_summary_document(doc_id: str | None, lang: str) -> Any:
            return gr.update(choices=section_choices(doc_id, lang), value="")

        summary_doc.change(pick_summary_document, inputs=[summary_doc, ui_lang],
                           outputs=summary_section, api_visibility="private",
                           show_progress="hidden")

        def summarize_in_chat(
            doc_id: str | None, section: str | None, choice: str, lang: str,
            chat_messages: list[dict[str, Any]] | None, gen: dict[str, str],
        ) -> tuple[Any, ...]:
            messages = list(chat_messages or [])
            if not doc_id:
                gr.Warning(ui_text(lang, "summary_pick_document"))
                return messages, gr.update(), gr.update(), gr.update()
            answer = session.summarize(doc_id, section or "", choice, gen)
            what = actions.summary_label(session.assistant, doc_id, section or "", lang)
            request = ui_text(lang, "summary_request", what=what)
            messages.append({"role": "user", "content": render_partial(request)})
            messages.append({"role": "assistant", "content": render_answer(answer, lang)})
            return messages, session.sources_html(answer, lang), answer, plain_answer(answer, lang)

        summarize.click(
            summarize_in_chat,
            inputs=[summary_doc, summary_section, summary_lang, ui_lang, chat, generator],
            outputs=[chat, sources, last_answer, copy_text], api_visibility="private",
        )

        # -- documents ----------------------------------------------------------------

        def upload(
            paths: list[str] | None, lang: str = "en",
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - gradio's documented idiom
        ) -> list[dict[str, Any]]:
            """Index uploaded files; one outcome per file: indexed, unchanged or failed.

            Args:
                paths: the files to add (PDF, Markdown, text, HTML, Word).
            """
            if not paths:
                gr.Warning(ui_text(lang, "no_files"))
                return []

            def tick(done: int, total: int, name: str) -> None:
                label = ui_text(lang, "progress_indexing", file=name) if name else ui_text(
                    lang, "progress_done")
                progress((done, total), desc=label, unit="files")

            return actions.upload(session.assistant, [Path(p) for p in paths], tick)

        def after_documents_change(lang: str) -> list[Any]:
            return [actions.documents_table(session.assistant, lang),
                    *_document_choices(lang)[:2], session.status_line(lang, None)]

        index.click(
            upload, inputs=[files, ui_lang], outputs=outcomes_json, api_name="upload",
            show_progress_on=outcomes,
        ).then(
            lambda result, lang: (render_outcomes(result, lang), None),
            inputs=[outcomes_json, ui_lang], outputs=[outcomes, files], api_visibility="private",
            show_progress="hidden",
        ).then(
            after_documents_change, inputs=ui_lang,
            outputs=[table, doc_pick, summary_doc, status], api_visibility="private",
            show_progress="hidden",
        )

        def delete_picked(doc_id: str | None, lang: str) -> str:
            if not doc_id:
                return message_html(ui_text(lang, "pick_document"), "error")
            result = actions.delete(session.assistant, doc_id)
            key = "deleted" if result["deleted"] else "not_deleted"
            return message_html(ui_text(lang, key, title=result["title"], chunks=result["chunks"]))

        def reindex_picked(doc_id: str | None, lang: str) -> str:
            if not doc_id:
                return message_html(ui_text(lang, "pick_document"), "error")
            result = actions.reindex(session.assistant, doc_id)
            return render_outcomes([result], lang)

        for button, fn in ((delete, delete_picked), (reindex, reindex_picked)):
            button.click(
                fn, inputs=[doc_pick, ui_lang], outputs=document_message,
                api_visibility="private",
            ).then(
                after_documents_change, inputs=ui_lang,
                outputs=[table, doc_pick, summary_doc, status], api_visibility="private",
                show_progress="hidden",
            )

        # -- settings -----------------------------------------------------------------

        def apply_generator(
            name: str, model: str, model_path: str, base_url: str, api_key: str, lang: str,
            current: dict[str, str],
        ) -> tuple[dict[str, str], str, str]:
            wanted = {"generator": name, "llm_model": model.strip(),
                      "llm_model_path": model_path.strip(), "llm_base_url": base_url.strip(),
                      "llm_api_key": api_key.strip()}
            problem = session.check_generator(wanted)
            if problem:
                msg = ui_text(lang, "generator_unavailable", generator=name, reason=problem,
                              current=current.get("generator", "extractive"))
                return current, message_html(msg, "error"), session.status_line(lang, current)
            msg = ui_text(lang, "generator_applied", generator=name)
            return wanted, message_html(msg), session.status_line(lang, wanted)

        apply.click(
            apply_generator,
            inputs=[generator_choice, llm_model, llm_model_path, llm_base_url, llm_api_key,
                    ui_lang, generator],
            outputs=[generator, generator_message, status], api_visibility="private",
        )

        # -- API-only endpoints -------------------------------------------------------

        def ask(question: str, language: str = AUTO,
                history: list[list[str]] | None = None) -> dict[str, Any]:
            """Answer a question from the indexed documents, with numbered citations.

            Args:
                question: the question, in Dutch, Spanish or English.
                language: answer language: "auto" (the question's), "nl", "es" or "en".
                history: earlier [question, answer] pairs of the conversation, oldest first.
            """
            return session.ask(question, language, history or [])

        def documents() -> list[dict[str, Any]]:
            """The indexed documents: id, title, file, language, pages, chunks, date."""
            return actions.document_list(session.assistant)

        def delete_document(doc_id: str) -> dict[str, Any]:
            """Delete a document (id or unique id prefix) and all its chunks."""
            return actions.delete(session.assistant, doc_id)

        def reindex_document(doc_id: str) -> dict[str, Any]:
            """Index a document again from its file."""
            return actions.reindex(session.assistant, doc_id)

        def summarize_document(document: str, section: str = "",
                               language: str = AUTO) -> dict[str, Any]:
            """Summarise a document (id, file name or title word), or one of its sections.

            Args:
                document: the document: id (prefix), file name, or a word of its title.
                section: a section path from /outline, a number ("4") or a name; "" = all.
                language: "auto" (the document's language), "nl", "es" or "en".
            """
            return session.summarize(document, section, language, None)

        def outline(doc_id: str) -> list[str]:
            """The section paths of a document, in document order."""
            return session.assistant.outline(doc_id)

        gr.api(ask, api_name="ask")
        gr.api(documents, api_name="documents")
        gr.api(delete_document, api_name="delete")
        gr.api(reindex_document, api_name="reindex")
        gr.api(summarize_document, api_name="summarize")
        gr.api(outline, api_name="outline")
    return demo


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a login: the index may be private."""
    local = settings.host in {"127.0.0.1", "localhost", "::1"}
    if not local and not (settings.auth_user and settings.auth_password):
        raise ValueError(
            f"the web UI would listen on {settings.host}, which other machines can reach, "
            "without a login. Set ASSISTANT_AUTH_USER and ASSISTANT_AUTH_PASSWORD (or "
            "--auth-user with ASSISTANT_AUTH_PASSWORD), or keep --host 127.0.0.1."
        )
    if settings.auth_user and not settings.auth_password:
        raise ValueError("a login user is set but no password: set ASSISTANT_AUTH_PASSWORD.")


def launch(settings: Settings, **launch_kwargs: Any) -> None:
    """Serve the UI on settings.host:settings.port; keyword arguments go to `Blocks.launch`."""
    check_exposure(settings)
    assistant = Assistant(settings)
    # While the server starts, and later whenever another process changes the index:
    # the next question then finds everything loaded.
    assistant.watch(settings.watch_seconds)
    # With generator "auto": answers are quoted until the local model is ready.
    assistant.start_local()
    demo = build_app(assistant)
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "css": CSS,
        "js": JS,
        "theme": _theme(),
        # A backstop far above our own limit: files between the two get our message.
        "max_file_size": max(settings.max_file_bytes * 4, 1024 * 1024),
        "auth": settings.login,
        "auth_message": ui_text("en", "title"),
    }
    options.update(launch_kwargs)
    demo.queue(default_concurrency_limit=4).launch(**options)


if __name__ == "__main__":
    launch(Settings.load())
