"""The web UI: rendering of untrusted document text, and the `ask` API of a running app.

The slow tests index the real sample corpus into a temporary folder, start the app on a
free local port and call it with gradio_client, the way an API user would.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client

import app
from assistant.embeddings import make_embedder
from assistant.messages import text
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import ChunkStore, DocumentRecord
from ingest.pipeline import Indexer

CORPUS_PDFS = sorted((PROJECT_ROOT / "corpus").glob("*.pdf"))
HOST = "127.0.0.1"

# ---------------------------------------------------------------------------------------
# Helpers, also used by tests/browser.


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def build_index(data_dir: Path, paths: Sequence[Path]) -> Settings:
    """Index `paths` into `data_dir` as `assistant ingest` does; returns settings for it."""
    # environ={}: ASSISTANT_* variables of the machine must not change what is tested.
    settings = Settings.load(
        {"data_dir": data_dir, "host": HOST, "port": free_port()}, environ={}
    )
    embedder = make_embedder(settings)
    store = ChunkStore.open(settings, embedder.identity)
    report = Indexer(settings, store, embedder).ingest(list(paths))
    assert report.ok, report.summary()
    assert report.indexed == len(paths), report.summary()
    return settings


@contextmanager
def running_app(settings: Settings) -> Iterator[str]:
    """Start the app through `app.launch`, as `assistant serve` does; yield its URL."""
    app.launch(settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://{settings.host}:{settings.port}/"
    finally:
        # Only the app started here: other Blocks in the process keep running.
        for blocks in gr.Blocks.get_instances():
            if blocks.is_running and getattr(blocks, "server_port", None) == settings.port:
                blocks.close()


# ---------------------------------------------------------------------------------------
# Rendering (fast).

XSS_PASSAGE = (
    'Intro <script>window.__xss=1</script> <img src=x onerror="window.__xss=2"> '
    "[click](javascript:window.__xss=3) ![i](x) **bold** https://example.org"
)


def _citation(**changes: object) -> dict[str, object]:
    citation: dict[str, object] = {
        "n": 1,
        "document": "Report <b>title</b>",
        "file": "report.md",
        "page": 3,
        "section": "2. Findings",
        "text": XSS_PASSAGE,
    }
    citation.update(changes)
    return citation


def _no_markup(markdown: str) -> None:
    """Escaped Markdown: no raw tags and no unescaped link or emphasis syntax."""
    body = "\n".join(line.removeprefix("> ") for line in markdown.splitlines())
    assert "<" not in body and ">" not in body
    assert re.search(r"(?<!\\)\]\(", markdown) is None
    assert re.search(r"(?<!\\)\*\*bold", markdown) is None
    assert "https://" not in markdown  # https\:// is no autolink


def test_escape_text_keeps_the_text_but_no_markup() -> None:
    escaped = app.escape_text(XSS_PASSAGE)
    _no_markup(escaped)
    assert "&lt;script&gt;" in escaped
    # Undoing the backslash escapes and entities gives the original text back.
    unescaped = re.sub(r"\\(.)", r"\1", escaped)
    assert unescaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == (
        XSS_PASSAGE
    )


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("# heading", "\\# heading"),
        ("12. item", "12\\. item"),
        ("x\n1) y\n - z\n+ w\n===", "x\n1\\) y\n \\- z\n\\+ w\n\\==="),
        ("mid-line - 3. stays", "mid-line - 3. stays"),
        ("https://x.org, WWW.x.org or a@x.org", "https\\://x.org, WWW\\.x.org or a\\@x.org"),
        ("a|b `c` ~d~ _e_ \\", "a\\|b \\`c\\` \\~d\\~ \\_e\\_ \\\\"),
    ],
)
def test_escape_text_block_markers_and_autolinks(raw: str, escaped: str) -> None:
    assert app.escape_text(raw) == escaped


def test_sources_show_heading_and_truncated_escaped_passage() -> None:
    long_text = XSS_PASSAGE + " word" * 300
    panel = app.render_sources({"citations": [_citation(text=long_text)]})
    _no_markup(panel)
    heading = "**\\[1\\] Report &lt;b&gt;title&lt;/b&gt; — report.md, p. 3, 2. Findings**"
    assert panel.startswith(heading)
    passage = panel.split("\n\n> ", 1)[1]
    assert passage.endswith(" …")
    assert len(re.sub(r"\\(.)", r"\1", passage)) < app.PASSAGE_DISPLAY_CHARS + 60


def test_answer_keeps_bullets_and_lists_citations() -> None:
    message = app.render_answer(
        {
            "answer": "According to the documents:\n- <script>x</script> [a](javascript:y). [1]",
            "citations": [_citation(section="")],
        }
    )
    _no_markup(message)
    assert "\n- &lt;script&gt;" in message
    assert message.endswith("\\[1\\] Report &lt;b&gt;title&lt;/b&gt; — report.md, p. 3")


def test_documents_table_escapes_titles() -> None:
    record = DocumentRecord(
        doc_id="abc", source="/x/a.md", file_name="a|b.md", title="T [x](javascript:z)",
        language="nl", format="markdown", pages=2, chunks=5, indexed_at="",
    )
    table = app.render_documents([record])
    assert "| T \\[x\\](javascript:z) | a\\|b.md | nl | 2 | 5 |" in table
    assert "No documents" in app.render_documents([])


def test_unexpected_errors_become_a_short_message() -> None:
    class Broken:
        def ask(self, question: str, language: str | None = None) -> None:
            raise RuntimeError("chroma exploded")

    result = app.answer_question(Broken(), "Wat is ILIA?", "auto")  # type: ignore[arg-type]
    assert result["error"] == "internal"
    assert result["answer"] == app.INTERNAL_ERROR_MESSAGE
    assert "chroma" not in result["answer"]
    chat, sources, box = app.show_answer("Wat is ILIA?", result, [])
    assert chat[-1] == {"role": "assistant", "content": app.escape_text(result["answer"])}
    assert box == "Wat is ILIA?"  # kept, so it can be sent again


# ---------------------------------------------------------------------------------------
# The running app (slow: real embedder over the whole corpus).


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = build_index(tmp_path_factory.mktemp("app-data"), CORPUS_PDFS)
    with running_app(settings) as url:
        yield url


@pytest.fixture
def client(app_url: str, monkeypatch: pytest.MonkeyPatch) -> Client:
    # A new client per test: gradio_client keeps session state between calls.
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return Client(app_url, verbose=False)


@pytest.mark.slow
def test_ask_endpoint_answers_with_citations(client: Client) -> None:
    result = client.predict(
        "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?",
        "auto",
        api_name="/ask",
    )
    assert result["error"] is None
    assert result["found"] is True
    assert result["language"] == "nl"
    assert result["answer"].strip()
    assert result["citations"], result
    files = {c["file"] for c in result["citations"]}
    assert "ilia-2025-es.pdf" in files, files
    for c in result["citations"]:
        assert set(c) >= {"n", "document", "file", "page", "section", "text"}
        assert f"[{c['n']}]" in result["answer"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "language", "expected_language"),
    [("", "auto", "en"), ("   \n ", "nl", "nl"), ("", "es", "es")],
)
def test_empty_question_gets_a_clear_message(
    client: Client, question: str, language: str, expected_language: str
) -> None:
    result = client.predict(question, language, api_name="/ask")
    assert result["error"] == "invalid_question"
    assert result["answer"] == text(expected_language, "empty_question")
    assert result["citations"] == []


@pytest.mark.slow
def test_documents_endpoint_lists_the_corpus(client: Client) -> None:
    listing = client.predict(api_name="/documents")
    for pdf in CORPUS_PDFS:
        assert app.escape_text(pdf.name) in listing
