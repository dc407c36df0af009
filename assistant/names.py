"""Place and language names in Dutch, Spanish and English, from CLDR (through Babel).

A question may name a country in one language ("Brazilië") while the passage
that answers it uses another ("Brasil"). CLDR, the Unicode consortium's
locale data, holds every territory's and language's name in each language;
it is the maintained source of such names, so nothing here is tied to the
documents an index holds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from assistant.textnorm import fold

NAME_LANGUAGES = ("nl", "es", "en")
# Territory codes that are not places a text names: codes for "unknown region",
# pseudo-territories and groupings whose names are ordinary words.
_SKIP_TERRITORIES = frozenset({"ZZ", "XA", "XB", "QO", "EZ", "UN", "001"})
# Groupings with letter codes, counted with the regions rather than the countries.
_GROUPINGS = frozenset({"EU"})


@dataclass(frozen=True)
class Name:
    """One CLDR name: what it names and whether it is a country or a wider region."""

    key: str  # "territory:BR", "language:es"
    region: bool  # a macro-region ("Latin America") rather than a country


@functools.cache
def _names() -> dict[str, Name]:
    """Folded spelling → the name it spells, over the three languages."""
    from babel import Locale

    found: dict[str, Name] = {}
    for language in NAME_LANGUAGES:
        locale = Locale(language)
        for code, name in locale.territories.items():
            if code in _SKIP_TERRITORIES or len(name) < 3:
                continue
            region = code.isdigit() or code in _GROUPINGS
            found.setdefault(fold(name), Name(f"territory:{code}", region=region))
        for code, name in locale.languages.items():
            # Regional variants ("es_419") and long descriptive names are not what
            # a text writes; plain language names ("Spaans", "neerlandés") are.
            if "_" in code or len(name) < 4 or " " in name:
                continue
            found.setdefault(fold(name), Name(f"language:{code}", region=True))
    return found


@functools.cache
def _spellings() -> dict[str, tuple[str, ...]]:
    by_key: dict[str, list[str]] = {}
    for spelling, name in _names().items():
        by_key.setdefault(name.key, []).append(spelling)
    return {key: tuple(sorted(v, key=len, reverse=True)) for key, v in by_key.items()}


@functools.cache
def _pattern() -> re.Pattern[str]:
    # Longest first, so "dominicaanse republiek" wins over a shorter overlapping name.
    spellings = sorted(_names(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in spellings) + r")(?!\w)")


def find_names(folded_text: str) -> list[tuple[str, Name]]:
    """The CLDR names in an already folded text, as (spelling, name), in text order."""
    names = _names()
    return [(m.group(1), names[m.group(1)]) for m in _pattern().finditer(folded_text)]


def find_name_spans(folded_text: str) -> list[tuple[int, int]]:
    """Where the CLDR names are in an already folded text."""
    return [m.span(1) for m in _pattern().finditer(folded_text)]


# Endings that make a name into an adjective or a plural in Dutch, Spanish and English
# ("Duits" -> "Duitse", "alemán" -> "alemanes", "Spaans" -> "Spaanse"), and Dutch
# "-talig", written in a language ("Spaanstalig", "Engelstalige").
_INFLECTIONS = ("e", "en", "es", "s", "a", "as", "o", "os", "talig", "talige")


def derived_name(folded_word: str) -> Name | None:
    """The CLDR name a folded word inflects ("duitse" of "duits", "alemanes" of "aleman"),
    or None. Only names of four letters or more count, so that a short word with an
    ending is not read as a name."""
    names = _names()
    for ending in _INFLECTIONS:
        stem = folded_word[: -len(ending)]
        if folded_word.endswith(ending) and len(stem) >= 4 and stem in names:
            return names[stem]
    return None


def derived_stems(name: Name) -> tuple[str, ...]:
    """The single-word spellings of a name in the three languages, and for a language
    those of the country where it is mostly spoken (CLDR likely subtags: "de" -> DE),
    as stems that its adjectives and compounds start with ("duits" of "Duitsland")."""
    keys = [name.key]
    if name.key.startswith("language:"):
        from babel.core import get_global

        likely = str(get_global("likely_subtags").get(name.key.split(":", 1)[1], ""))
        territory = likely.rsplit("_", 1)[-1] if "_" in likely else ""
        if territory.isalpha() and territory.isupper():
            keys.append(f"territory:{territory}")
    return tuple(dict.fromkeys(s for key in keys for s in spellings(key) if " " not in s))


def spellings(key: str) -> tuple[str, ...]:
    """Every folded spelling of a name in Dutch, Spanish and English."""
    return _spellings().get(key, ())


def is_place_name(folded_word: str) -> bool:
    name = _names().get(folded_word)
    return name is not None and name.key.startswith("territory:")


def mentions_place(folded_text: str) -> bool:
    """Whether a folded text names a country (an answer to "which countries"); wider
    regions do not count, since a text about a region names it everywhere."""
    return any(
        name.key.startswith("territory:") and not name.region
        for _, name in find_names(folded_text)
    )


@functools.cache
def language_specific_names() -> dict[str, frozenset[str]]:
    """Per language, the folded country names only that language spells that way
    ("chili" is Dutch, "brasil" Spanish): a hint for short-text language detection."""
    from babel import Locale

    per_language = {
        lang: {fold(n) for c, n in Locale(lang).territories.items() if c.isalpha()}
        for lang in NAME_LANGUAGES
    }
    return {
        lang: frozenset(
            w for w in words
            if " " not in w and not any(w in per_language[o] for o in per_language if o != lang)
        )
        for lang, words in per_language.items()
    }
