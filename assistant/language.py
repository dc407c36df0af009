"""Language identification for documents and questions (nl, es, en, pt)."""

from __future__ import annotations

import functools
import re
from typing import Any

from assistant.textnorm import fold

SUPPORTED = ("nl", "es", "en")
DETECTABLE = ("nl", "es", "en", "pt", "de", "fr", "it")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"nl": "Nederlands", "es": "Español", "en": "English", "pt": "Português"}

# Function words settle very short questions, where statistical detectors guess,
# together with the country names only one of the languages spells that way
# (CLDR: "Zuid-Afrika", "Sudáfrica"). Words shared by two languages ("de", "en", "in")
# are dropped below.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        """wat welke welk wie waar waarom hoe hoeveel het een zijn is van de en in op voor met
        niet ook rapport volgens wordt werd heeft hebben""".split()
    ),
    "es": frozenset(
        """qué que cuál cuáles quién dónde por cómo cuántos cuántas el la los las un una del y
        en es son de con para según informe tiene""".split()
    ),
    "en": frozenset(
        """what which who where why how many the a an is are of and in on for with not
        report according does did has have""".split()
    ),
}


def _raw_markers() -> dict[str, frozenset[str]]:
    from assistant.names import language_specific_names

    names = language_specific_names()
    return {
        lang: frozenset(fold(w) for w in words) | names.get(lang, frozenset())
        for lang, words in _FUNCTION_WORDS.items()
    }


_RAW_MARKERS = _raw_markers()
_MARKERS = {
    lang: frozenset(
        w for w in vocab if not any(w in other for o, other in _RAW_MARKERS.items() if o != lang)
    )
    for lang, vocab in _RAW_MARKERS.items()
}
SHORT_QUESTION_WORDS = 8
UNSUPPORTED_CONFIDENCE = 0.6
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    # German, French and Italian are known only so that a question in them is
    # recognised as unsupported instead of being taken for Dutch or Spanish.
    return LanguageDetectorBuilder.from_languages(
        Language.DUTCH, Language.SPANISH, Language.ENGLISH, Language.PORTUGUESE,
        Language.GERMAN, Language.FRENCH, Language.ITALIAN,
    ).build()


_LINGUA_CODES = {
    "DUTCH": "nl", "SPANISH": "es", "ENGLISH": "en", "PORTUGUESE": "pt",
    "GERMAN": "de", "FRENCH": "fr", "ITALIAN": "it",
}


def _without_names(text: str) -> str:
    """Country and language names say little about the language around them
    ("Kenya overtakes Ghana" is English); leave them out when other
    words remain."""
    from assistant.names import find_name_spans
    from assistant.textnorm import fold_with_offsets

    folded, offsets = fold_with_offsets(text)
    stripped = text
    for start, end in reversed(find_name_spans(folded)):
        a, b = offsets[start], offsets[end - 1] + 1
        stripped = stripped[:a] + " " + stripped[b:]
    return stripped if _WORD.search(stripped) else text


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Best guess among nl/es/en/pt/de/fr/it; `default` when the text has no letters."""
    sample = text[:4000]
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return default
    if sample.lstrip().startswith(("¿", "¡")):
        return "es"
    confidences = _detector().compute_language_confidence_values(_without_names(sample))
    top = _LINGUA_CODES.get(confidences[0].language.name, default) if confidences else default
    # A clearly foreign question must not be claimed by a shared word ("an", "den").
    if top not in SUPPORTED and confidences[0].value >= UNSUPPORTED_CONFIDENCE:
        return top
    if len(words) <= SHORT_QUESTION_WORDS:
        folded = [fold(w) for w in words]
        counts = {lang: sum(w in vocab for w in folded) for lang, vocab in _MARKERS.items()}
        best = max(counts, key=lambda lang: counts[lang])
        ranked = sorted(counts.values(), reverse=True)
        if ranked[0] > ranked[1]:
            return best
    # Not clearly foreign: the likeliest of the languages the assistant serves.
    for candidate in confidences:
        code = _LINGUA_CODES.get(candidate.language.name, default)
        if code in SUPPORTED or code == "pt":
            return code
    return top


def answer_language(question: str, explicit: str | None = None) -> str:
    """The language to answer in: explicit choice, else the question's, else English."""
    if explicit:
        code = explicit.lower()
        if code not in SUPPORTED:
            raise ValueError(f"unsupported language '{explicit}' (use one of: nl, es, en)")
        return code
    detected = detect_language(question)
    return detected if detected in SUPPORTED else DEFAULT_LANGUAGE
