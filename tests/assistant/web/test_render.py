"""Rendering for the web UI: untrusted document text is escaped, labels are localized."""

from __future__ import annotations

import re
import string

import pytest
import yaml

from assistant.settings import PROJECT_ROOT
from assistant.web.render import (
    PASSAGE_DISPLAY_CHARS,
    escape_text,
    outcome_line,
    plain_answer,
    render_answer,
    render_outcomes,
    render_sources,
)

XSS_PASSAGE = (
    'Intro <script>window.__xss=1</script> <img src=x onerror="window.__xss=2"> '
    "[click](javascript:window.__xss=3) ![i](x) **bold** https://example.org"
)
LANGUAGES = ("nl", "es", "en")


def _citation(**changes: object) -> dict[str, object]:
    citation: dict[str, object] = {
        "n": 1,
        "document": "Report <b>title</b>",
        "file": "report.md",
        "page": 3,
        "section": "2. Findings",
        "text": XSS_PASSAGE,
        "language": "nl",
        "doc_id": "abc",
        "highlight": [],
    }
    citation.update(changes)
    return citation


def _no_markup(markdown: str) -> None:
    """Escaped Markdown: no raw tags and no unescaped link or emphasis syntax."""
    assert "<" not in markdown and ">" not in markdown
    assert re.search(r"(?<!\\)\]\((?!#source-)", markdown) is None
    assert re.search(r"(?<!\\)\*\*bold", markdown) is None
    assert "https://" not in markdown  # https\:// is no autolink


def test_escape_text_keeps_the_text_but_no_markup() -> None:
    escaped = escape_text(XSS_PASSAGE)
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
    assert escape_text(raw) == escaped


def test_answer_links_its_markers_to_the_sources_and_escapes_the_rest() -> None:
    message = render_answer(
        {
            "answer": "According to the documents:\n- <script>x</script> [a](javascript:y). [1]"
            " [7]",
            "citations": [_citation(section="")],
        },
        "en",
    )
    _no_markup(message.replace("(#source-1)", ""))
    assert "\n- &lt;script&gt;" in message
    assert "[\\[1\\]](#source-1)" in message
    assert "\\[7\\]" in message and "#source-7" not in message  # cites nothing: no link
    assert message.rstrip().endswith("Report &lt;b&gt;title&lt;/b&gt; — report.md, Page 3")


def test_the_quote_under_a_translated_line_is_a_quote_in_that_list_item() -> None:
    message = render_answer(
        {
            "answer": "Volgens de documenten:\n- Chili staat bovenaan. [1]\n"
            "  > Chile <b>encabeza</b> el índice [1].",
            "citations": [_citation()],
        },
        "nl",
    )
    lines = message.splitlines()
    assert lines[1] == "- Chili staat bovenaan. [\\[1\\]](#source-1)"
    # Kept as a Markdown quote, escaped, and its words are not taken for a marker.
    assert lines[2] == "  > Chile &lt;b&gt;encabeza&lt;/b&gt; el índice \\[1\\]."


def test_answer_labels_follow_the_ui_language() -> None:
    answer = {"answer": "Chile lidera [1].", "citations": [_citation()]}
    spanish = render_answer(answer, "es")
    assert "**Fuentes**" in spanish
    assert spanish.endswith("report.md, Página 3, 2. Findings")
    dutch = render_answer(answer, "nl")
    assert "**Bronnen**" in dutch and dutch.endswith("report.md, Pagina 3, 2. Findings")


def test_sources_panel_escapes_everything_and_marks_the_supporting_sentence() -> None:
    passage = "First sentence here. <b>Second</b> sentence supports it. Third one."
    html_out = render_sources(
        {"citations": [_citation(text=passage, highlight=["<b>Second</b> sentence supports it."])]},
        "en",
        {1: ("data:image/png;base64,AAAA", "")},
    )
    assert '<section class="source-card" id="source-1"' in html_out
    assert "Report &lt;b&gt;title&lt;/b&gt;" in html_out
    assert '<mark class="support">&lt;b&gt;Second&lt;/b&gt; sentence supports it.</mark>' in (
        html_out
    )
    assert '<img class="page-image" src="data:image/png;base64,AAAA"' in html_out
    assert "<dt>Language</dt><dd>Dutch</dd>" in html_out


def test_sources_panel_never_lets_document_markup_through() -> None:
    html_out = render_sources({"citations": [_citation()]}, "en", {1: (None, "no file")})
    for raw in ("<script", "<img src=x", "<b>title"):
        assert raw not in html_out
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html_out
    assert "No page image: no file" in html_out


def test_a_long_passage_is_shortened_around_its_highlight() -> None:
    passage = " ".join(f"Filler sentence number {i}." for i in range(200))
    target = "Filler sentence number 150."
    html_out = render_sources({"citations": [_citation(text=passage, highlight=[target])]}, "en")
    assert f'<mark class="support">{target}</mark>' in html_out
    shown = re.search(r'<blockquote class="passage">(.*?)</blockquote>', html_out)
    assert shown is not None
    assert len(re.sub(r"<[^>]+>", "", shown.group(1))) < PASSAGE_DISPLAY_CHARS + 40


def test_no_citations_shows_the_hint_in_the_ui_language() -> None:
    assert "Hier verschijnen de bronnen" in render_sources(None, "nl")
    assert "Aquí aparecen las fuentes" in render_sources({"citations": []}, "es")


def test_plain_answer_for_the_clipboard_has_no_markup() -> None:
    text = plain_answer({"answer": "Chile leads [1].", "citations": [_citation()]}, "en")
    assert text == (
        "Chile leads [1].\n\nSources:\n"
        "[1] Report <b>title</b> — report.md, Page 3, 2. Findings"
    )


def test_outcomes_are_localized_and_escaped() -> None:
    failed = {"file": "<x>.pdf", "status": "failed", "code": "too_large", "reason": "big",
              "params": {"size_mb": 61.2, "limit_mb": 50.0}}
    indexed = {"file": "a.pdf", "status": "indexed", "pages": 8, "chunks": 38, "language": "nl"}
    assert outcome_line(failed, "es") == (
        "<x>.pdf: error: el archivo ocupa 61,2 MB; el límite es de 50 MB"
    )
    assert outcome_line(failed, "en") == "<x>.pdf: failed: the file is 61.2 MB; the limit is 50 MB"
    assert outcome_line(indexed, "nl") == "a.pdf: geïndexeerd: 8 pagina's, 38 passages, Nederlands"
    html_out = render_outcomes([failed, indexed], "en")
    assert "&lt;x&gt;.pdf" in html_out and "<x>" not in html_out
    assert 'class="outcome outcome-failed"' in html_out
    assert "1 indexed, 0 unchanged, 1 failed." in html_out


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_ui_text_exists_in_every_language_with_the_same_fields() -> None:
    texts = {
        lang: yaml.safe_load((PROJECT_ROOT / "prompts" / "ui" / f"{lang}.yaml").read_text("utf-8"))
        for lang in LANGUAGES
    }
    for lang in ("nl", "es"):
        assert set(texts[lang]) == set(texts["en"]), lang
        for key, template in texts["en"].items():
            assert _placeholders(str(texts[lang][key])) == _placeholders(str(template)), (
                lang, key,
            )
            assert str(texts[lang][key]).strip(), (lang, key)
