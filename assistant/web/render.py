"""What the web UI shows, as escaped Markdown (chat) and escaped HTML (sources panel).

Everything that comes from a document (answer sentences, titles, sections, passages,
file names) is untrusted. Chat messages go through gradio's Markdown renderer, so
document text is escaped for Markdown; the sources panel is HTML built here, so every
value is passed through `html.escape`. A passage containing `<script>`,
`<img onerror=...>` or `[x](javascript:...)` shows as that text and nothing runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.answer import ORIGINAL_PREFIX
from assistant.highlight import mark_spans
from assistant.messages import file_error, language_name, ui_text

PASSAGE_DISPLAY_CHARS = 900

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
# A citation marker after escaping: \[3\] (or \[1, 2\] as some models write it).
_ESCAPED_MARKER = re.compile(r"\\\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\\\]")
_BULLET = "- "


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


def one_line(value: object) -> str:
    return _WHITESPACE.sub(" ", str(value)).strip()


def truncate(value: str, limit: int = PASSAGE_DISPLAY_CHARS) -> str:
    """Shorten at a word boundary, so long passages do not flood the page."""
    text = one_line(value)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + " …"


def _link_markers(escaped: str, known: set[int]) -> str:
    """Turn escaped [n] markers into links to source card n of the sources panel."""

    def link(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        if not all(n in known for n in numbers):
            return match.group(0)
        return "".join(f"[\\[{n}\\]](#source-{n})" for n in numbers)

    return _ESCAPED_MARKER.sub(link, escaped)


def where(citation: Mapping[str, Any], lang: str) -> str:
    """`file, p. 3, 2. Findings` (plain text)."""
    parts = [str(citation.get("file", "")),
             f"{ui_text(lang, 'source_page')} {citation.get('page', '?')}"]
    section = one_line(citation.get("section") or "")
    if section:
        parts.append(section)
    return ", ".join(parts)


def citation_line(citation: Mapping[str, Any], lang: str) -> str:
    """`[n] title — file, p. X, section` as plain text."""
    return f"[{int(citation.get('n', 0))}] {one_line(citation.get('document', ''))} — " + where(
        citation, lang
    )


def render_answer(answer: Mapping[str, Any], lang: str) -> str:
    """The chat message: the answer with linked markers, then one line per citation."""
    citations = list(answer.get("citations") or [])
    known = {int(c.get("n", 0)) for c in citations}
    lines = []
    for line in str(answer.get("answer", "")).splitlines():
        # The answerer lists its sentences as "- ..." lines; keep them a Markdown list
        # and escape only the document text after the bullet.
        if line.startswith(_BULLET):
            lines.append(_BULLET + _link_markers(escape_text(line[len(_BULLET):]), known))
        elif line.startswith(ORIGINAL_PREFIX):
            lines.append(ORIGINAL_PREFIX + escape_text(line[len(ORIGINAL_PREFIX):]))
        else:
            lines.append(_link_markers(escape_text(line), known))
    message = "\n".join(lines)
    if citations:
        listed = "\n".join(
            f"- {_link_markers(escape_text(citation_line(c, lang)), known)}" for c in citations
        )
        message += f"\n\n**{ui_text(lang, 'sources_label')}**\n{listed}"
    return message


def render_partial(text: str) -> str:
    """A streaming answer so far: escaped, markers not yet linked."""
    return "\n".join(
        _BULLET + escape_text(line[len(_BULLET):]) if line.startswith(_BULLET)
        else ORIGINAL_PREFIX + escape_text(line[len(ORIGINAL_PREFIX):])
        if line.startswith(ORIGINAL_PREFIX)
        else escape_text(line)
        for line in text.splitlines()
    )


def plain_answer(answer: Mapping[str, Any], lang: str) -> str:
    """The answer with its sources as plain text, for the clipboard."""
    text = str(answer.get("answer", "")).strip()
    citations = list(answer.get("citations") or [])
    if not citations:
        return text
    listed = "\n".join(citation_line(c, lang) for c in citations)
    return f"{text}\n\n{ui_text(lang, 'sources_label')}:\n{listed}"


def _passage_html(passage: str, highlights: Sequence[str]) -> str:
    """The passage, escaped, with the supporting sentences in <mark>."""
    shown = truncate(passage)
    if shown != one_line(passage):
        # The highlight must survive shortening: show the window around it instead.
        spans = mark_spans(one_line(passage), [one_line(h) for h in highlights])
        if spans:
            start = max(0, spans[0][0] - PASSAGE_DISPLAY_CHARS // 3)
            shown = ("… " if start else "") + truncate(one_line(passage)[start:])
    spans = mark_spans(shown, [one_line(h) for h in highlights])
    out, pos = [], 0
    for a, b in spans:
        out.append(html.escape(shown[pos:a]))
        out.append(f'<mark class="support">{html.escape(shown[a:b])}</mark>')
        pos = b
    out.append(html.escape(shown[pos:]))
    return "".join(out)


def render_sources(
    answer: Mapping[str, Any] | None,
    lang: str,
    images: Mapping[int, tuple[str | None, str]] | None = None,
) -> str:
    """The sources panel (HTML): one card per citation with its passage and page image.

    `images` maps a citation number to (data URI or None, why there is no image).
    """
    citations = list((answer or {}).get("citations") or [])
    if not citations:
        return f'<p class="no-sources">{html.escape(ui_text(lang, "no_sources"))}</p>'
    cards = []
    for c in citations:
        n = int(c.get("n", 0))
        source_lang = str(c.get("language", ""))
        facts = [
            (ui_text(lang, "source_file"), str(c.get("file", ""))),
            (ui_text(lang, "source_language"),
             language_name(lang, source_lang) if source_lang else "?"),
            (ui_text(lang, "source_page"), str(c.get("page", "?"))),
        ]
        section = one_line(c.get("section") or "")
        if section:
            facts.append((ui_text(lang, "source_section"), section))
        facts_html = "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts
        )
        image_html = ""
        uri, reason = (images or {}).get(n, (None, ""))
        if uri:
            alt = ui_text(lang, "page_image_alt", page=c.get("page", "?"), file=c.get("file", ""))
            image_html = (
                f'<img class="page-image" src="{html.escape(uri)}" alt="{html.escape(alt)}" '
                'loading="lazy">'
            )
        elif reason:
            image_html = (
                '<p class="no-image">'
                f"{html.escape(ui_text(lang, 'page_image_unavailable', reason=reason))}</p>"
            )
        title = html.escape(one_line(c.get("document", "")))
        passage = _passage_html(str(c.get("text", "")), c.get("highlight") or [])
        cards.append(
            f'<section class="source-card" id="source-{n}" data-n="{n}">'
            f'<h4><span class="source-n">[{n}]</span> {title}</h4><dl>{facts_html}</dl>'
            f'<blockquote class="passage">{passage}</blockquote>{image_html}</section>'
        )
    return "\n".join(cards)


def outcome_line(outcome: Mapping[str, Any], lang: str) -> str:
    """One file's indexing result in the UI language (plain text)."""
    status = str(outcome.get("status", "failed"))
    name = str(outcome.get("file", ""))
    if status == "indexed":
        detail = ui_text(
            lang, "outcome_indexed", pages=outcome.get("pages", 0),
            chunks=outcome.get("chunks", 0),
            language=language_name(lang, str(outcome.get("language", ""))),
        )
    elif status == "unchanged":
        detail = ui_text(lang, "outcome_unchanged")
    else:
        reason = file_error(lang, str(outcome.get("code", "")), str(outcome.get("reason", "")),
                            **dict(outcome.get("params") or {}))
        detail = ui_text(lang, f"outcome_{'skipped' if status == 'skipped' else 'failed'}",
                         reason=reason)
    return f"{name}: {detail}"


def render_outcomes(outcomes: Sequence[Mapping[str, Any]], lang: str) -> str:
    """The results of one upload (HTML list, one line per file, coloured by status)."""
    if not outcomes:
        return ""
    counts = {s: sum(1 for o in outcomes if o.get("status") == s)
              for s in ("indexed", "unchanged", "failed")}
    counts["failed"] += sum(1 for o in outcomes if o.get("status") == "skipped")
    items = "".join(
        f'<li class="outcome outcome-{html.escape(str(o.get("status", "")))}">'
        f"{html.escape(outcome_line(o, lang))}</li>"
        for o in outcomes
    )
    summary = html.escape(ui_text(lang, "outcome_summary", **counts))
    return f'<p class="outcome-summary">{summary}</p><ul class="outcomes">{items}</ul>'


def message_html(message: str, kind: str = "info") -> str:
    return f'<p class="notice notice-{html.escape(kind)}">{html.escape(message)}</p>'
