"""Language identification for documents and questions (nl, es, en, pt)."""

from __future__ import annotations

import functools
import re
from typing import Any

SUPPORTED = ("nl", "es", "en")
DETECTABLE = ("nl", "es", "en", "pt")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"nl": "Nederlands", "es": "Español", "en": "English", "pt": "Português"}

# Function words, and the spellings of names that differ per language, settle
# very short questions, where statistical detectors guess. Words shared by
# two languages ("de", "en", "in") are dropped below.
_RAW_MARKERS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        """wat welke welk wie waar waarom hoe hoeveel het een zijn is van de en in op voor met
        niet ook landen land rapport volgens wordt werd heeft hebben chili brazilië argentinië
        bolivië dominicaanse republiek verenigde staten kopgroep middengroep achterblijvers
        pioniers volgers verkenners investeringen strategie""".split()
    ),
    "es": frozenset(
        """qué que cuál cuáles quién dónde por cómo cuántos cuántas el la los las un una del y
        en es son de con para según países país informe tiene brasil méxico perú panamá
        república dominicana estados unidos pioneros adoptantes exploradores inversión
        estrategia""".split()
    ),
    "en": frozenset(
        """what which who where why how many the a an is are of and in on for with not
        countries country report according does did has have brazil dominican republic
        united states pioneers adopters explorers investment strategy""".split()
    ),
}
_MARKERS = {
    lang: frozenset(
        w for w in vocab if not any(w in other for o, other in _RAW_MARKERS.items() if o != lang)
    )
    for lang, vocab in _RAW_MARKERS.items()
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.DUTCH, Language.SPANISH, Language.ENGLISH, Language.PORTUGUESE
    ).build()


_LINGUA_CODES = {"DUTCH": "nl", "SPANISH": "es", "ENGLISH": "en", "PORTUGUESE": "pt"}


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Best guess among nl/es/en/pt; `default` when the text has no letters."""
    sample = text[:4000]
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return default
    if sample.lstrip().startswith(("¿", "¡")):
        return "es"
    if len(words) <= 6:
        counts = {lang: sum(w in vocab for w in words) for lang, vocab in _MARKERS.items()}
        best = max(counts, key=lambda lang: counts[lang])
        ranked = sorted(counts.values(), reverse=True)
        if ranked[0] > ranked[1]:
            return best
    found = _detector().detect_language_of(sample)
    if found is None:
        return default
    return _LINGUA_CODES.get(found.name, default)


def answer_language(question: str, explicit: str | None = None) -> str:
    """The language to answer in: explicit choice, else the question's, else English."""
    if explicit:
        code = explicit.lower()
        if code not in SUPPORTED:
            raise ValueError(f"unsupported language '{explicit}' (use one of: nl, es, en)")
        return code
    detected = detect_language(question)
    return detected if detected in SUPPORTED else DEFAULT_LANGUAGE
