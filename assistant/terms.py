"""Names that differ across Dutch, Spanish and English (countries, ILIA terms).

Used to check that the names a question asks about occur in the passages
found, whatever language either is written in.
"""

from __future__ import annotations

import functools
import unicodedata

# canonical key -> spellings in nl / es / en (and common variants)
TERMS: dict[str, tuple[str, ...]] = {
    "chile": ("Chili", "Chile"),
    "brazil": ("Brazilië", "Brasil", "Brazil", "Brazilie"),
    "uruguay": ("Uruguay",),
    "colombia": ("Colombia",),
    "costa rica": ("Costa Rica",),
    "argentina": ("Argentinië", "Argentina", "Argentinie"),
    "peru": ("Peru", "Perú"),
    "mexico": ("Mexico", "México", "Mexiko"),
    "dominican republic": (
        "Dominicaanse Republiek", "República Dominicana", "Dominican Republic",
    ),
    "ecuador": ("Ecuador",),
    "panama": ("Panama", "Panamá"),
    "el salvador": ("El Salvador",),
    "jamaica": ("Jamaica",),
    "paraguay": ("Paraguay",),
    "cuba": ("Cuba",),
    "guatemala": ("Guatemala",),
    "honduras": ("Honduras",),
    "bolivia": ("Bolivia", "Bolivië"),
    "venezuela": ("Venezuela",),
    "latin america": ("Latijns-Amerika", "América Latina", "Latinoamérica", "Latin America"),
    "caribbean": ("Caribisch", "Caribe", "Caribbean"),
    "united states": ("Verenigde Staten", "Estados Unidos", "United States", "VS", "EE. UU."),
    "europe": ("Europa", "Europe", "Europees", "Europese", "europeo", "europea", "European"),
    "european union": ("Europese Unie", "Unión Europea", "European Union", "EU", "UE"),
    "eclac": ("ECLAC", "CEPAL"),
    "cenia": ("CENIA",),
    "ilia": ("ILIA",),
    "ai": ("AI", "IA", "KI"),
    "pioneers": ("kopgroep", "pioniers", "pioneros", "pioneers"),
    "adopters": ("middengroep", "volgers", "adoptantes", "adopters"),
    "explorers": ("achterblijvers", "verkenners", "exploradores", "explorers"),
}


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Panamá' matches 'Panama'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _variant_index() -> dict[str, str]:
    return {fold(v): key for key, variants in TERMS.items() for v in variants}


def canonical(term: str) -> str | None:
    """The canonical key of a known name in any of the languages, else None."""
    return _variant_index().get(fold(term))


def variants(term: str) -> tuple[str, ...]:
    """Every known spelling of `term` (folded), or the folded term itself."""
    key = canonical(term)
    if key is None:
        return (fold(term),)
    return tuple(fold(v) for v in TERMS[key])
