"""Generator "auto" in a real browser: quoted answers while the local model gets ready,
the model's answers once it is, and the status line saying which.

The model is the real 0.5B test GGUF on the real llama.cpp runtime. Only its readiness
is held back (the step that finds the model file waits for the test's signal), so that
"not ready yet" lasts as long as the test needs rather than the second it takes here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.generation import local
from assistant.messages import text, ui_text
from tests.browser.test_chat_browser import (
    ANSWER_TIMEOUT_MS,
    CARDS,
    PAGE_LOAD_TIMEOUT_MS,
    QUESTION_EN,
    VIEWPORT,
    ask,
    browser,  # noqa: F401 - the fixture
    screenshot,
)
from tests.support.llm import qwen_gguf_path
from tests.test_app import CORPUS_PDFS, build_index, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Joining the file is instant here and loading the 0.5B model takes a second or two.
READY_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, gate: threading.Event) -> Iterator[str]:
    english = [pdf for pdf in CORPUS_PDFS if pdf.name.endswith("-en.pdf")]
    model = qwen_gguf_path()
    settings = build_index(
        tmp_path_factory.mktemp("auto-data"), english, generator="auto",
        llm_model_path=str(model), llm_threads=1, llm_temperature=0.0, llm_max_tokens=96,
    )
    real_resolve = local.resolve_model_file

    def held_back(settings, progress=None) -> Path:  # noqa: ANN001
        gate.wait()
        return real_resolve(settings, progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local, "resolve_model_file", held_back)
        with running_app(settings) as url:
            yield url
    gate.set()


def test_quotes_until_the_local_model_is_ready_then_the_model_answers(
    browser: Browser,  # noqa: F811
    app_url: str,
    gate: threading.Event,
) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page: Page = context.new_page()
    page.goto(app_url, wait_until="domcontentloaded")
    status = page.locator("#status")
    name = qwen_gguf_path().name
    expect(status).to_contain_text(ui_text("en", "local_joining", model=name),
                                   timeout=PAGE_LOAD_TIMEOUT_MS)

    quoted = ask(page, QUESTION_EN)
    expect(quoted).to_contain_text(text("en", "according_to"))
    expect(page.locator(CARDS).first).to_be_visible()
    screenshot(page, "auto-before-ready.png")

    gate.set()
    # The status line follows the model on its own (no reload).
    expect(status).to_contain_text(ui_text("en", "local_ready", model=name),
                                   timeout=READY_TIMEOUT_MS)
    written = ask(page, QUESTION_EN)
    expect(written).not_to_contain_text(text("en", "according_to"), timeout=ANSWER_TIMEOUT_MS)
    expect(written.locator('a[href^="#source-"]').first).to_be_visible()
    screenshot(page, "auto-model-ready.png")
    context.close()
