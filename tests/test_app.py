"""The running web app through its API, with gradio_client, the way a script would use it:
ask (with history), upload (good and bad files), list, delete, re-index, summarize, login.

The slow tests index the real sample corpus into a temporary folder, start the app on a
free local port with `app.launch` (as `assistant serve` does) and call it.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client, handle_file

import app
from assistant.embeddings import make_embedder
from assistant.messages import text
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import ChunkStore
from ingest.pipeline import Indexer

CORPUS_PDFS = sorted((PROJECT_ROOT / "corpus").glob("*.pdf"))
HOST = "127.0.0.1"

# ---------------------------------------------------------------------------------------
# Helpers, also used by tests/browser.


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def build_index(data_dir: Path, paths: Sequence[Path], **overrides: object) -> Settings:
    """Index `paths` into `data_dir` as `assistant ingest` does; returns settings for it."""
    # environ={}: ASSISTANT_* variables of the machine must not change what is tested.
    settings = Settings.load(
        {"data_dir": data_dir, "host": HOST, "port": free_port(), **overrides}, environ={}
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
# Exposure (fast).


@pytest.mark.parametrize(
    ("host", "user", "password", "allowed"),
    [
        ("127.0.0.1", "", "", True),
        ("localhost", "", "", True),
        ("0.0.0.0", "", "", False),
        ("192.168.1.5", "ana", "", False),
        ("0.0.0.0", "ana", "s3cret", True),
        ("127.0.0.1", "ana", "", False),
    ],
)
def test_serving_beyond_this_machine_requires_a_login(
    host: str, user: str, password: str, allowed: bool
) -> None:
    settings = Settings.load(
        {"host": host, "auth_user": user, "auth_password": password}, environ={}
    )
    if allowed:
        app.check_exposure(settings)
    else:
        with pytest.raises(ValueError, match="ASSISTANT_AUTH_PASSWORD"):
            app.check_exposure(settings)


def test_login_settings_come_from_the_environment() -> None:
    settings = Settings.load(
        environ={"ASSISTANT_AUTH_USER": "ana", "ASSISTANT_AUTH_PASSWORD": "s3cret"}
    )
    assert settings.login == ("ana", "s3cret")
    assert Settings.load(environ={}).login is None


# ---------------------------------------------------------------------------------------
# The running app (slow: real embedder over the whole corpus).

MAX_FILE_MB = 0.2  # small, so the oversized-upload case needs only a 300 kB file


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_index(tmp_path_factory.mktemp("app-data"), CORPUS_PDFS, max_file_mb=MAX_FILE_MB)


@pytest.fixture(scope="module")
def app_url(app_settings: Settings) -> Iterator[str]:
    with running_app(app_settings) as url:
        yield url


@pytest.fixture
def client(app_url: str, monkeypatch: pytest.MonkeyPatch) -> Client:
    # A new client per test: gradio_client keeps session state between calls.
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return Client(app_url, verbose=False)


def _documents(client: Client) -> dict[str, dict[str, Any]]:
    return {d["file"]: d for d in client.predict(api_name="/documents")}


@pytest.mark.slow
def test_ask_answers_across_languages_with_checked_citations(client: Client) -> None:
    result = client.predict(
        "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?",
        "auto",
        [],
        api_name="/ask",
    )
    assert result["error"] is None
    assert result["found"] is True
    assert result["language"] == "nl"
    assert result["citations"], result
    files = {c["file"] for c in result["citations"]}
    assert "ilia-2025-es.pdf" in files, files
    for c in result["citations"]:
        assert set(c) >= {"n", "document", "file", "page", "section", "text", "language",
                          "highlight"}
        assert f"[{c['n']}]" in result["answer"]
        # The highlighted sentences are verbatim parts of the passage.
        assert all(h in c["text"] for h in c["highlight"])
    assert any(c["highlight"] for c in result["citations"])


@pytest.mark.slow
def test_a_follow_up_question_uses_the_history(client: Client) -> None:
    first = client.predict("¿Qué puntuación obtuvo Chile en el ILIA 2025?", "auto", [],
                           api_name="/ask")
    assert "70,56" in first["answer"]
    history = [["¿Qué puntuación obtuvo Chile en el ILIA 2025?", first["answer"]]]
    follow_up = client.predict("¿Y Uruguay?", "auto", history, api_name="/ask")
    first_line = follow_up["answer"].splitlines()[1]
    assert "Uruguay" in first_line and "62,32" in first_line, follow_up["answer"]
    alone = client.predict("¿Y Uruguay?", "auto", [], api_name="/ask")
    assert alone["answer"] != follow_up["answer"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "language", "expected_language"),
    [("", "auto", "en"), ("   \n ", "nl", "nl"), ("", "es", "es")],
)
def test_empty_question_gets_a_clear_message(
    client: Client, question: str, language: str, expected_language: str
) -> None:
    result = client.predict(question, language, [], api_name="/ask")
    assert result["error"] == "invalid_question"
    assert result["answer"] == text(expected_language, "empty_question")
    assert result["citations"] == []


@pytest.mark.slow
def test_documents_lists_the_corpus_with_its_details(client: Client) -> None:
    listed = _documents(client)
    assert set(listed) >= {p.name for p in CORPUS_PDFS}
    nl = listed["ilia-2025-nl.pdf"]
    assert nl["language"] == "nl" and nl["pages"] == 8 and nl["chunks"] > 20
    assert nl["title"].startswith("AI in Latijns-Amerika")


@pytest.mark.slow
def test_upload_indexes_good_files_and_names_the_reason_for_bad_ones(
    client: Client, app_settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "notes on ILIA.md"
    good.write_text("# Upload probe\n\nThe upload probe document says the zebra index is 42.\n",
                    encoding="utf-8")
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    unknown = tmp_path / "tool.exe"
    unknown.write_bytes(b"MZ" + b"\x00" * 100)
    big = tmp_path / "big.txt"
    big.write_text("word " * 70_000, encoding="utf-8")  # 350 kB > 0.2 MB
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    outcomes = client.predict(
        [handle_file(p) for p in (good, corrupt, unknown, big, empty)], api_name="/upload"
    )
    by_file = {o["file"]: o for o in outcomes}
    assert by_file["notes on ILIA.md"]["status"] == "indexed"
    assert by_file["notes on ILIA.md"]["chunks"] >= 1
    assert (by_file["broken.pdf"]["status"], by_file["broken.pdf"]["code"]) == (
        "failed", "unreadable_pdf")
    assert by_file["tool.exe"]["code"] == "unsupported_type"
    assert by_file["big.txt"]["code"] == "too_large"
    assert by_file["big.txt"]["params"]["limit_mb"] == MAX_FILE_MB
    assert by_file["empty.md"]["code"] == "empty_file"
    # Only the good file is indexed; the upload folder holds only what was accepted.
    assert "notes on ILIA.md" in _documents(client)
    assert {p.name for p in app_settings.upload_dir.iterdir()} == {"notes on ILIA.md"}
    answer = client.predict("What does the upload probe say the zebra index is?", "en", [],
                            api_name="/ask")
    assert "42" in answer["answer"] and answer["citations"][0]["file"] == "notes on ILIA.md"

    again = client.predict([handle_file(good)], api_name="/upload")
    assert again[0]["status"] == "unchanged"

    # A broken new version of the same file: the earlier one stays, in the index and on disk.
    kept = good.read_bytes()
    good.write_bytes(b"\x00\x01binary" * 100)
    broken = client.predict([handle_file(good)], api_name="/upload")
    assert (broken[0]["status"], broken[0]["code"]) == ("failed", "binary_file")
    assert (app_settings.upload_dir / "notes on ILIA.md").read_bytes() == kept
    assert {p.name for p in app_settings.upload_dir.iterdir()} == {"notes on ILIA.md"}

    doc_id = _documents(client)["notes on ILIA.md"]["doc_id"]
    reindexed = client.predict(doc_id, api_name="/reindex")
    assert reindexed["status"] == "indexed" and reindexed["chunks"] >= 1

    deleted = client.predict(doc_id[:12], api_name="/delete")
    assert deleted["deleted"] is True and deleted["chunks"] >= 1
    assert deleted["remaining_chunks"] == 0
    assert "notes on ILIA.md" not in _documents(client)
    gone = client.predict("What does the upload probe say the zebra index is?", "en", [],
                          api_name="/ask")
    assert all(c["file"] != "notes on ILIA.md" for c in gone["citations"])
    assert client.predict(doc_id, api_name="/delete")["deleted"] is False


@pytest.mark.slow
def test_summarize_a_section_in_another_language_with_citations(client: Client) -> None:
    nl = _documents(client)["ilia-2025-nl.pdf"]
    outline = client.predict(nl["doc_id"], api_name="/outline")
    recommendations = next(p for p in outline if p.startswith("8. Aanbevelingen") and ">" not in p)
    result = client.predict(nl["doc_id"], recommendations, "es", api_name="/summarize")
    assert result["error"] is None
    assert result["answer"].startswith("Resumen")
    assert result["citations"]
    assert {c["file"] for c in result["citations"]} == {"ilia-2025-nl.pdf"}
    assert all(c["section"].startswith("8") for c in result["citations"])
    missing = client.predict(nl["doc_id"], "quantum gastronomy", "en", api_name="/summarize")
    assert missing["error"] == "not_found" and "Aanbevelingen" in missing["answer"]


@pytest.mark.slow
def test_a_login_protects_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    settings = Settings.load(
        {"data_dir": tmp_path, "host": HOST, "port": free_port(), "auth_user": "ana",
         "auth_password": "s3cret"},
        environ={},
    )
    with running_app(settings) as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "config", timeout=10)
        assert refused.value.code == 401
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain ValueError
            Client(url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(url, auth=("ana", "wrong"), verbose=False)
        client = Client(url, auth=("ana", "s3cret"), verbose=False)
        assert client.predict(api_name="/documents") == []
