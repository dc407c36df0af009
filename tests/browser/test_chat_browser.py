"""The chat page in a real headless Chromium: a cross-lingual answer with its citation,
and a document full of markup that must show as plain text and run nothing.

Needs Debian's Chromium (`apt-get install -y chromium chromium-driver`); the browser that
`playwright install` would download cannot be fetched on these machines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.messages import text
from assistant.settings import PROJECT_ROOT
from tests.test_app import CORPUS_PDFS, build_index, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
# Answers take well under a second once warm; the first one also loads the embedder.
ANSWER_TIMEOUT_MS = 60_000

XSS_FILE = "xss-probe.md"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=2">'
XSS_LINK = "[click](javascript:window.__xss=3)"
XSS_DOCUMENT = f"""# ILIA xss probe test document

This ILIA xss probe test document checks that the assistant shows document text as text.
The ILIA xss probe test document contains a script tag {XSS_SCRIPT} in its first paragraph.
The ILIA xss probe test document also contains an image tag {XSS_IMG} and a Markdown
link {XSS_LINK} that must never become a working link, nor may https://example.org/probe,
www.example.org or probe@example.org in the ILIA xss probe test document.
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    probe = tmp_path_factory.mktemp("docs") / XSS_FILE
    probe.write_text(XSS_DOCUMENT, encoding="utf-8")
    settings = build_index(tmp_path_factory.mktemp("browser-data"), [*CORPUS_PDFS, probe])
    with running_app(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get install -y chromium chromium-driver` to run the browser tests"
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.goto(app_url, wait_until="domcontentloaded")
    # A gradio page never reaches network idle: wait for the question box instead.
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_spanish_question_answered_from_the_dutch_report(page: Page) -> None:
    ask(page, "¿Qué países mejoraron más rápido en los factores habilitantes?")
    sources = page.locator("#sources")
    expect(sources).to_contain_text("ilia-2025-nl.pdf", timeout=ANSWER_TIMEOUT_MS)
    answer = page.locator("#chat").get_by_text("Ecuador").first
    expect(answer).to_be_visible()
    expect(page.locator("#chat").get_by_text("ilia-2025-nl.pdf").first).to_be_visible()
    expect(sources.get_by_text("ilia-2025-nl.pdf").first).to_be_visible()
    expect(sources).to_contain_text("Dominicaanse Republiek")
    screenshot(page, "chat-answer.png")


def test_document_markup_is_shown_as_text_and_never_runs(page: Page) -> None:
    ask(page, "What does the ILIA xss probe test document contain?")
    sources = page.locator("#sources")
    expect(sources).to_contain_text(XSS_FILE, timeout=ANSWER_TIMEOUT_MS)
    expect(sources.get_by_text(XSS_SCRIPT).first).to_be_visible()
    expect(sources).to_contain_text(XSS_IMG)
    expect(sources).to_contain_text(XSS_LINK)
    expect(page.locator("#chat .message-content").last).to_contain_text(XSS_SCRIPT)
    for region in ("#chat .message-content", "#sources"):
        assert page.locator(f"{region} script").count() == 0
        assert page.locator(f"{region} img").count() == 0
        # Not even the plain URLs of the document become links.
        assert page.locator(f"{region} a").count() == 0
    # A broken image would fire onerror asynchronously: give it the chance first.
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.locator("#documents").get_by_text("Documents").first.click()
    expect(page.locator("#documents-list")).to_contain_text("ILIA xss probe test document")
    screenshot(page, "xss-probe.png")


def test_empty_question_gets_a_friendly_message(page: Page) -> None:
    page.locator("#question textarea").fill("   ")
    # Enter sends too, through the same `ask` handler.
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat")).to_contain_text(
        text("en", "empty_question"), timeout=ANSWER_TIMEOUT_MS
    )
    expect(page.locator("#chat")).not_to_contain_text("Traceback")
    expect(page.locator("#sources")).to_contain_text("sources of the last answer appear here")
