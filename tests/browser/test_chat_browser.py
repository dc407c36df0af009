"""The web UI in a real headless Chromium, the way a user drives it.

One app serves the whole module, on an index of the Spanish and English reports and a
document full of markup. The Dutch report is uploaded (and deleted again) through the
Documents tab by the first test, so that the one fact only it holds shows that uploads
are searchable at once. Expected texts come from `prompts/`, so rewording a label does not
break a test, but a label that stops being translated does.

Needs Debian's Chromium (`apt-get install -y chromium chromium-driver`); the browser that
`playwright install` would download cannot be fetched on these machines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from assistant.messages import file_error, text, ui_text
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
VIEWPORT = {"width": 1280, "height": 1100}
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
# Answers take well under a second once warm; the first one also loads the embedder.
ANSWER_TIMEOUT_MS = 60_000
# Indexing one 8-page PDF takes a few seconds on two cores.
INDEX_TIMEOUT_MS = 90_000
PAGE_LOAD_TIMEOUT_MS = 30_000

UPLOADED = "ilia-2025-nl.pdf"
UPLOADED_PDF = PROJECT_ROOT / "corpus" / UPLOADED
# Only the Dutch report says which countries improved fastest on the enablers.
CROSS_LINGUAL_QUESTION = "¿Qué países mejoraron más rápido en los factores habilitantes?"
CROSS_LINGUAL_FACT = "Ecuador"
QUESTION_EN = "Which countries lead the ILIA 2025?"

XSS_FILE = "xss-probe.md"
XSS_TITLE = "ILIA xss probe test document"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=2">'
XSS_LINK = "[click](javascript:window.__xss=3)"
XSS_DOCUMENT = f"""# {XSS_TITLE}

This ILIA xss probe test document checks that the assistant shows document text as text.
The ILIA xss probe test document contains a script tag {XSS_SCRIPT} in its first paragraph.
The ILIA xss probe test document also contains an image tag {XSS_IMG} and a Markdown
link {XSS_LINK} that must never become a working link, nor may https://example.org/probe,
www.example.org or probe@example.org in the ILIA xss probe test document.
"""

# Chat messages as gradio renders them: the question, then the answer.
BOT_MESSAGES = '#chat [data-testid="bot"]'
USER_MESSAGES = '#chat [data-testid="user"]'
CARDS = "#sources section.source-card"
# Ours: the citation markers link to the source cards. Any other link came from a document.
FOREIGN_LINKS = 'a:not([href^="#source-"])'
THINKING = [ui_text(lang, "thinking") for lang in ("en", "nl", "es")]
IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0"

PageOpener = Callable[..., Page]


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    probe = tmp_path_factory.mktemp("docs") / XSS_FILE
    probe.write_text(XSS_DOCUMENT, encoding="utf-8")
    # Without the Dutch report: the upload test adds it through the UI.
    indexed = [pdf for pdf in CORPUS_PDFS if pdf.name != UPLOADED]
    assert len(indexed) == len(CORPUS_PDFS) - 1, CORPUS_PDFS
    settings = build_index(tmp_path_factory.mktemp("browser-data"), [*indexed, probe])
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
def open_page(browser: Browser, app_url: str) -> Iterator[PageOpener]:
    """Opens the app in a fresh browser context (own cookies, session state, locale)."""
    contexts = []

    def open_(**context_options: Any) -> Page:
        # A fixed locale: "auto" follows the browser's Accept-Language, not the machine's.
        options: dict[str, Any] = {"viewport": VIEWPORT, "locale": "en-US", **context_options}
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url, wait_until="domcontentloaded")
        # A gradio page never reaches network idle. The status line is filled in by the
        # page's load event, which also sets the labels and the document pickers: acting
        # before it has run would race with it.
        expect(page.locator("#question textarea")).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
        expect(page.locator("#status")).to_contain_text("extractive", timeout=PAGE_LOAD_TIMEOUT_MS)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: PageOpener) -> Page:
    return open_page()


# -- helpers --------------------------------------------------------------------------------


def ui_pattern(lang: str, key: str, **fields: str) -> re.Pattern[str]:
    """The UI text `key` as a regex, each {field} matched by the regex given for it.

    Markdown bold markers are dropped: the page shows the rendered text.
    """
    sentinels = {name: f"FIELD{i}END" for i, name in enumerate(fields)}
    pattern = re.escape(ui_text(lang, key, **sentinels).replace("**", ""))
    for name, regex in fields.items():
        pattern = pattern.replace(sentinels[name], regex)
    return re.compile(pattern)


def ask(page: Page, question: str) -> Locator:
    """Send a question; return the answer's chat message once it is complete."""
    before = page.locator(BOT_MESSAGES).count()
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    return wait_for_answer(page, before)


def wait_for_answer(page: Page, before: int) -> Locator:
    answer = page.locator(BOT_MESSAGES).nth(before)
    expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    for thinking in THINKING:
        expect(answer).not_to_contain_text(thinking, timeout=ANSWER_TIMEOUT_MS)
    # Send is off while an answer streams in and comes back with its last update.
    expect(page.locator("#send")).to_be_enabled(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#question textarea")).to_have_value("")
    return answer


def choose(page: Page, elem_id: str, option: str | re.Pattern[str]) -> None:
    """Pick an option of a gradio dropdown by its label, as a user does."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    if isinstance(option, str):
        expect(page.locator(f"#{elem_id} input")).to_have_value(option)


def open_tab(page: Page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()
    expect(page.get_by_role("tab", name=label, exact=True)).to_have_attribute(
        "aria-selected", "true"
    )


def uploaded_file(page: Page, name: str) -> Locator:
    """A file in the upload box's list of chosen files."""
    return page.locator("#upload").get_by_role("cell", name=name, exact=True)


def card_for(page: Page, file_name: str) -> Locator:
    """The first source card of `file_name` (its File entry, not just any mention)."""
    return (
        page.locator(CARDS)
        .filter(has=page.locator("dd", has_text=re.compile(rf"^{re.escape(file_name)}$")))
        .first
    )


def card_facts(card: Locator) -> dict[str, str]:
    """A source card's File/Language/Page/Section list as a dict."""
    return card.evaluate(
        """card => Object.fromEntries([...card.querySelectorAll('dt')].map(
               dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))"""
    )


def expect_page_image_loaded(page: Page, card: Locator) -> None:
    image = card.locator("img.page-image")
    # The image is lazy-loaded: it only loads once it is near the viewport.
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function(IMAGE_LOADED, arg=image.element_handle(), timeout=10_000)


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def scroll_to_top(page: Page) -> None:
    page.evaluate("window.scrollTo(0, 0)")


# -- tests ----------------------------------------------------------------------------------


def test_uploaded_report_answers_a_spanish_question_with_page_image(
    page: Page, tmp_path: Path
) -> None:
    # Upload: one good PDF and two bad files, each judged on its own.
    unsupported = tmp_path / "setup.exe"
    unsupported.write_bytes(b"MZ\x90\x00 not a document")
    fake_pdf = tmp_path / "broken.pdf"
    fake_pdf.write_text("this text file only pretends to be a PDF", encoding="utf-8")
    open_tab(page, ui_text("en", "tab_documents"))
    table = page.locator("#documents-table")
    expect(table).not_to_contain_text(UPLOADED)
    page.locator("#upload input[type=file]").set_input_files([UPLOADED_PDF, unsupported, fake_pdf])
    # gradio lists the files once they have reached the server; only then may we index.
    # (The file list splits a name into stem and suffix: match its accessible name.)
    for name in (UPLOADED, unsupported.name, fake_pdf.name):
        expect(uploaded_file(page, name)).to_be_visible(timeout=PAGE_LOAD_TIMEOUT_MS)
    page.locator("#index").click()

    outcomes = page.locator("#outcomes")
    expect(outcomes.locator("li.outcome")).to_have_count(3, timeout=INDEX_TIMEOUT_MS)
    expect(outcomes.locator(".outcome-summary")).to_have_text(
        ui_text("en", "outcome_summary", indexed=1, unchanged=0, failed=2)
    )
    indexed = outcomes.locator("li.outcome-indexed")
    indexed_text = ui_pattern(
        "en", "outcome_indexed", pages=r"(\d+)", chunks=r"(\d+)", language="Dutch"
    )
    expect(indexed).to_have_text(re.compile(rf"^{re.escape(UPLOADED)}: {indexed_text.pattern}$"))
    match = indexed_text.search(indexed.inner_text())
    assert match is not None
    pages, chunks = int(match.group(1)), int(match.group(2))
    assert pages == 8 and chunks > 0, match.group(0)
    # Their reasons, in the UI language, after their names.
    failed = outcomes.locator("li.outcome-failed")
    expect(failed).to_have_count(2)
    # The list of supported types is the loader's business: compare up to it.
    type_reason = file_error("en", "unsupported_type", suffix=".exe", supported="")
    expect(failed.filter(has_text=unsupported.name)).to_contain_text(
        f"{unsupported.name}: " + ui_text("en", "outcome_failed", reason=type_reason.split(" (")[0])
    )
    expect(failed.filter(has_text=fake_pdf.name)).to_have_text(
        f"{fake_pdf.name}: " + ui_text("en", "outcome_failed", reason=file_error("en", "not_pdf"))
    )
    # The table and the status line know the new document at once (the picker: see below).
    expect(table).to_contain_text(UPLOADED)
    expect(table).not_to_contain_text(fake_pdf.name)
    expect(page.locator("#status")).to_contain_text(
        ui_pattern(
            "en", "status", generator="extractive", embedder=".+", documents="4", chunks=r"\d+"
        )
    )
    # The upload box is emptied, so the same files are not indexed twice by accident.
    expect(uploaded_file(page, UPLOADED)).to_have_count(0)
    screenshot(page, "documents-tab.png", full_page=True)

    # A Spanish question that only the Dutch report answers.
    open_tab(page, ui_text("en", "tab_chat"))
    answer = ask(page, CROSS_LINGUAL_QUESTION)
    expect(answer).to_contain_text(CROSS_LINGUAL_FACT)
    # The answer's framing is in the question's language, whatever the source's.
    expect(answer).to_contain_text(text("es", "according_to"))
    card = card_for(page, UPLOADED)
    expect(card).to_be_visible()
    n = card.get_attribute("data-n")
    assert card.get_attribute("id") == f"source-{n}"
    facts = card_facts(card)
    assert facts[ui_text("en", "source_language")] == "Dutch", facts
    assert facts[ui_text("en", "source_page")].isdigit(), facts
    # The sentence the answer rests on is highlighted in the passage.
    expect(card.locator("blockquote.passage mark.support").first).to_contain_text(
        CROSS_LINGUAL_FACT
    )
    # The page itself, rendered from the uploaded PDF, with the passage marked.
    expect(card.locator("img.page-image")).to_have_attribute(
        "alt",
        ui_text("en", "page_image_alt", page=facts[ui_text("en", "source_page")], file=UPLOADED),
    )
    expect_page_image_loaded(page, card)

    # The marker in the answer links to that card: clicking it scrolls there and flashes it,
    # without leaving the page.
    scroll_to_top(page)
    link = answer.locator(f'a[href="#source-{n}"]').first
    expect(link).to_have_text(f"[{n}]")
    url = page.url
    link.click()
    expect(card).to_have_class(re.compile(r"\bflash\b"), timeout=1_000)
    expect(card).to_be_in_viewport()
    # The flash is a cue, not a state: it goes away again.
    expect(card).not_to_have_class(re.compile(r"\bflash\b"), timeout=5_000)
    # By now a link opened in a new tab (gradio's default for Markdown links) would be there.
    assert page.url == url
    assert len(page.context.pages) == 1

    # Chat and sources side by side, as a user sees them (the full page is thousands of
    # pixels of page images).
    scroll_to_top(page)
    page.locator("#tabs").evaluate("tabs => window.scrollTo(0, tabs.offsetTop)")
    screenshot(page, "chat-sources.png")
    screenshot(page, "chat-sources-full.png", full_page=True)

    # Delete the uploaded report again: it leaves the table and the pickers.
    open_tab(page, ui_text("en", "tab_documents"))
    choose(page, "document-pick", re.compile(rf"\({re.escape(UPLOADED)}\)$"))
    page.locator("#delete").click()
    deleted = ui_pattern("en", "deleted", title=".+", chunks=str(chunks))
    expect(page.locator("#document-message")).to_have_text(deleted, timeout=INDEX_TIMEOUT_MS)
    expect(page.locator("#document-message")).to_contain_text("Latijns-Amerika")
    expect(table).not_to_contain_text(UPLOADED)
    expect(page.locator("#status")).to_contain_text(
        ui_pattern(
            "en", "status", generator="extractive", embedder=".+", documents="3", chunks=r"\d+"
        )
    )
    page.locator("#document-pick input").click()
    expect(page.get_by_role("option", name=re.compile(re.escape(UPLOADED)))).to_have_count(0)


def test_language_switch_relabels_the_ui_and_answers_in_dutch(page: Page) -> None:
    assert ui_text("nl", "send") != ui_text("en", "send")
    expect(page.locator("#language input")).to_have_value(ui_text("en", "language_auto"))
    expect(page.locator("#send")).to_have_text(ui_text("en", "send"))

    choose(page, "language", "Nederlands")
    expect(page.locator("#send")).to_have_text(ui_text("nl", "send"))
    expect(page.get_by_role("tab", name=ui_text("nl", "tab_documents"), exact=True)).to_be_visible()
    expect(page.locator("#question textarea")).to_have_attribute(
        "placeholder", ui_text("nl", "question_placeholder")
    )
    expect(page.locator("#header")).to_contain_text(ui_text("nl", "title"))
    expect(page.locator("#new-conversation")).to_have_text(ui_text("nl", "new_conversation"))
    expect(page.locator("#status")).to_contain_text(
        ui_pattern(
            "nl", "status", generator="extractive", embedder=".+", documents=r"\d+", chunks=r"\d+"
        )
    )
    expect(page.locator("#sources")).to_have_text(ui_text("nl", "no_sources"))
    # The language stays chosen although its dropdown was relabelled too.
    expect(page.locator("#language input")).to_have_value("Nederlands")

    # An English question answered in Dutch: the chosen language is the answer language.
    answer = ask(page, QUESTION_EN)
    expect(answer).to_contain_text(text("nl", "according_to"))
    expect(answer).to_contain_text(ui_text("nl", "sources_label"))
    expect(answer.locator('a[href^="#source-"]').first).to_be_visible()
    expect(page.locator(CARDS).first.locator("dt").first).to_have_text(ui_text("nl", "source_file"))
    scroll_to_top(page)
    screenshot(page, "ui-dutch.png")

    # English: the labels and the sources panel follow; the answer given stays as it was.
    choose(page, "language", "English")
    expect(page.locator("#send")).to_have_text(ui_text("en", "send"))
    expect(page.get_by_role("tab", name=ui_text("en", "tab_documents"), exact=True)).to_be_visible()
    expect(page.locator(CARDS).first.locator("dt").first).to_have_text(ui_text("en", "source_file"))
    expect(answer).to_contain_text(text("nl", "according_to"))

    # And back to Dutch.
    choose(page, "language", "Nederlands")
    expect(page.locator("#send")).to_have_text(ui_text("nl", "send"))
    expect(page.locator("#question textarea")).to_have_attribute(
        "placeholder", ui_text("nl", "question_placeholder")
    )

    # "Auto" (labelled in Dutch now) returns to the browser's language, English here.
    choose(page, "language", ui_text("nl", "language_auto"))
    expect(page.locator("#send")).to_have_text(ui_text("en", "send"))
    expect(page.locator("#language input")).to_have_value(ui_text("en", "language_auto"))


def test_auto_language_follows_the_browser(open_page: PageOpener) -> None:
    page = open_page(locale="es-ES")
    expect(page.locator("#send")).to_have_text(ui_text("es", "send"))
    expect(page.get_by_role("tab", name=ui_text("es", "tab_documents"), exact=True)).to_be_visible()
    expect(page.locator("#language input")).to_have_value(ui_text("es", "language_auto"))
    expect(page.locator("#sources")).to_have_text(ui_text("es", "no_sources"))


def test_summary_of_a_section_in_english(page: Page) -> None:
    summary = page.locator("#summary")
    summary.locator(".label-wrap").first.click()
    expect(page.locator("#summarize")).to_be_visible()
    document = re.compile(r"\(ilia-2025-es\.pdf\)$")
    choose(page, "summary-document", document)
    title = page.locator("#summary-document input").input_value().rsplit(" (", 1)[0]
    # The sections come from the document's outline, once a document is picked.
    section = "8. Recomendaciones"
    choose(page, "summary-section", section)
    choose(page, "summary-language", "English")
    before = page.locator(BOT_MESSAGES).count()
    page.locator("#summarize").click()

    what = f"{section} — {title}"
    expect(page.locator(USER_MESSAGES).last).to_have_text(
        ui_text("en", "summary_request", what=what), timeout=ANSWER_TIMEOUT_MS
    )
    message = wait_for_answer(page, before)
    # An English summary of a Spanish section quotes it, and says so.
    quoted = text("en", "quoted_in", language="Spanish")
    intro = text("en", "summary_intro", what=what).rstrip(":")
    expect(message).to_contain_text(f"{intro} {quoted}:")
    expect(message.locator('a[href^="#source-"]').first).to_be_visible()
    cards = page.locator(CARDS)
    expect(cards.first).to_be_visible()
    # Every source of the summary lies in the chosen section.
    for i in range(cards.count()):
        facts = card_facts(cards.nth(i))
        assert facts[ui_text("en", "source_file")] == "ilia-2025-es.pdf", facts
        assert facts[ui_text("en", "source_section")].startswith("8."), facts
    expect_page_image_loaded(page, cards.first)
    scroll_to_top(page)
    screenshot(page, "summary.png")


def test_document_markup_is_shown_as_text_and_never_runs(page: Page) -> None:
    answer = ask(page, "What does the ILIA xss probe test document contain?")
    card = card_for(page, XSS_FILE)
    expect(card).to_be_visible()
    expect(card.get_by_text(XSS_SCRIPT).first).to_be_visible()
    expect(card).to_contain_text(XSS_IMG)
    expect(card).to_contain_text(XSS_LINK)
    expect(answer).to_contain_text(XSS_SCRIPT)
    for region in (answer, card):
        assert region.locator("script").count() == 0
        assert region.locator("img").count() == 0
        # Not even the plain URLs of the document become links; in the answer, only our
        # citation markers are.
        assert region.locator(FOREIGN_LINKS).count() == 0
    assert card.locator("a").count() == 0
    assert answer.locator('a[href^="#source-"]').count() > 0
    # The sources panel's only images are rendered PDF pages (the probe is Markdown).
    assert page.locator("#sources img:not(.page-image)").count() == 0
    assert page.locator("#sources script").count() == 0
    # A broken image would fire onerror asynchronously: give it the chance first.
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"

    open_tab(page, ui_text("en", "tab_documents"))
    table = page.locator("#documents-table")
    expect(table).to_contain_text(XSS_TITLE)
    expect(table).to_contain_text(XSS_FILE)
    assert table.locator("script").count() == 0
    assert table.locator("img").count() == 0
    screenshot(page, "xss-probe.png", full_page=True)


def test_copy_answer_puts_answer_and_sources_on_the_clipboard(open_page: PageOpener) -> None:
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    # Before any answer there is nothing to copy, and the user is told so.
    page.locator("#copy-answer").click()
    expect(page.get_by_text(ui_text("en", "nothing_to_copy"))).to_be_visible()

    answer = ask(page, QUESTION_EN)
    expect(answer.locator('a[href^="#source-"]').first).to_be_visible()
    page.locator("#copy-answer").click()
    expect(page.get_by_text(ui_text("en", "copied"))).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(text("en", "according_to")), copied
    # The answer's first point, as plain text (no Markdown escapes, no link syntax).
    first_point = re.split(r" \[\d", answer.locator("li").first.inner_text())[0]
    assert first_point in copied, (first_point, copied)
    assert f"\n\n{ui_text('en', 'sources_label')}:\n" in copied, copied
    source_line = re.compile(
        rf"^\[1\] .+ — ilia-2025-(en|es)\.pdf, {ui_text('en', 'source_page')} \d+", re.M
    )
    assert source_line.search(copied), copied
    assert "\\[" not in copied and "](#source-" not in copied, copied


def test_empty_question_gets_a_friendly_message(page: Page) -> None:
    page.locator("#question textarea").fill("   ")
    # Enter sends too, through the same handler as the button.
    page.locator("#question textarea").press("Enter")
    answer = wait_for_answer(page, 0)
    expect(answer).to_have_text(text("en", "empty_question"))
    # No question bubble for a question that was never asked.
    expect(page.locator(USER_MESSAGES)).to_have_count(0)
    expect(page.locator("#chat")).not_to_contain_text("Traceback")
    expect(page.locator("#chat")).not_to_contain_text(ui_text("en", "error_heading"))
    expect(page.locator("#sources")).to_have_text(ui_text("en", "no_sources"))


def test_new_conversation_clears_chat_and_sources(page: Page) -> None:
    # An example question, asked with one click.
    example = page.locator("#examples button").first
    expect(example).not_to_have_text("")
    question = example.inner_text()
    example.click()
    answer = wait_for_answer(page, 0)
    expect(page.locator(USER_MESSAGES).first).to_have_text(question)
    expect(answer.locator('a[href^="#source-"]').first).to_be_visible()
    expect(page.locator(CARDS).first).to_be_visible()

    page.locator("#new-conversation").click()
    expect(page.locator(BOT_MESSAGES)).to_have_count(0)
    expect(page.locator(USER_MESSAGES)).to_have_count(0)
    expect(page.locator(CARDS)).to_have_count(0)
    expect(page.locator("#sources")).to_have_text(ui_text("en", "no_sources"))
    # The copy button forgets the old answer too.
    page.locator("#copy-answer").click()
    expect(page.get_by_text(ui_text("en", "nothing_to_copy"))).to_be_visible()
    # The chat starts afresh: the next answer is its only message.
    answer = ask(page, QUESTION_EN)
    expect(page.locator(BOT_MESSAGES)).to_have_count(1)
    expect(answer.locator('a[href^="#source-"]').first).to_be_visible()

    # The chat's own bin clears the sources with the conversation.
    page.locator('#chat button[aria-label="Clear"]').click()
    expect(page.locator(BOT_MESSAGES)).to_have_count(0)
    expect(page.locator(CARDS)).to_have_count(0)
    expect(page.locator("#sources")).to_have_text(ui_text("en", "no_sources"))


def test_settings_panel_switches_the_generator(page: Page) -> None:
    from tests.support.llm import qwen_gguf_path

    open_tab(page, ui_text("en", "tab_settings"))
    # A server that is not there: refused with the reason, the generator stays.
    choose(page, "generator", "openai")
    page.locator("#llm-base-url textarea").fill("http://127.0.0.1:9/v1")
    page.locator("#llm-model textarea").fill("some-model")
    page.locator("#apply").click()
    expect(page.locator("#generator-message")).to_contain_text(
        "openai cannot be used:", timeout=ANSWER_TIMEOUT_MS
    )
    expect(page.locator("#status")).to_contain_text("Generator: extractive")

    # The bundled test model, in-process.
    choose(page, "generator", "llamacpp")
    page.locator("#llm-model-path input").fill(str(qwen_gguf_path()))
    page.locator("#llm-model-path input").press("Enter")
    page.locator("#apply").click()
    expect(page.locator("#generator-message")).to_have_text(
        ui_text("en", "generator_applied", generator="llamacpp"), timeout=ANSWER_TIMEOUT_MS
    )
    shown = f"Generator: llamacpp ({qwen_gguf_path().name})"
    expect(page.locator("#status")).to_contain_text(shown)
    open_tab(page, ui_text("en", "tab_chat"))
    before = page.locator(BOT_MESSAGES).count()
    page.locator("#question textarea").fill(QUESTION_EN)
    page.locator("#send").click()
    # The model streams for seconds; meanwhile a second question cannot be sent.
    expect(page.locator("#send")).to_be_disabled()
    answer = wait_for_answer(page, before)
    # A model's answer is prose, not the quoted list of the extractive answerer.
    expect(answer).not_to_contain_text(text("en", "according_to"))
    expect(answer.locator('a[href^="#source-"]').first).to_be_visible()
    expect(page.locator(CARDS).first).to_be_visible()
    screenshot(page, "settings-llamacpp.png")
