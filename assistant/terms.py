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
    # "European Union" reads as Europe + union, so "Europees samenwerkingsverband"
    # still meets "Unión Europea".
    "europe": ("Europa", "Europe", "Europees", "Europese", "europeo", "europea", "European",
               "EU", "UE"),
    "eclac": ("ECLAC", "CEPAL"),
    "cenia": ("CENIA",),
    "ilia": ("ILIA",),
    "ai": ("AI", "IA", "KI"),
    "pioneers": ("kopgroep", "pioniers", "pioneros", "pioneers"),
    "adopters": ("middengroep", "volgers", "adoptantes", "adopters"),
    "explorers": ("achterblijvers", "verkenners", "exploradores", "explorers"),
}

# Names that say what a question is about rather than what it asks for.
TOPIC_TERMS = frozenset(
    {"ai", "ilia", "latin america", "caribbean", "eclac", "cenia", "pioneers", "adopters",
     "explorers"}
)


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


# Domain words per language: a token of any of these (or of its stem) stands
# for the concept in the lexical index, so "investeringen", "inversiones" and
# "investments" all match one another.
CONCEPTS: dict[str, dict[str, tuple[str, ...]]] = {
    "investment": {
        "nl": ("investering", "investeringen", "investeren", "geïnvesteerd"),
        "es": ("inversión", "inversiones", "invertir", "invierte"),
        "en": ("investment", "investments", "invest", "invested", "investing"),
    },
    "talent": {
        "nl": ("talent", "talenten", "specialisten", "specialist"),
        "es": ("talento", "talentos", "especialistas", "especialista"),
        "en": ("talent", "specialists", "specialist"),
    },
    "brain drain": {
        "nl": ("braindrain", "brain drain", "wegtrekken", "emigratie", "vertrekken"),
        "es": ("fuga de cerebros", "emigración", "emigran", "emigrar"),
        "en": ("brain drain", "emigrate", "emigration", "emigrating"),
    },
    "governance": {
        "nl": ("governance", "bestuur"),
        "es": ("gobernanza",),
        "en": ("governance",),
    },
    "strategy": {
        "nl": ("strategie", "strategieën", "strategieen"),
        "es": ("estrategia", "estrategias"),
        "en": ("strategy", "strategies"),
    },
    "roadmap": {
        "nl": ("routekaart", "stappenplan"),
        "es": ("hoja de ruta", "hojas de ruta"),
        "en": ("roadmap", "road map"),
    },
    "recommendation": {
        "nl": ("aanbeveling", "aanbevelingen", "aanbevolen", "beveelt", "aanraden"),
        "es": ("recomendación", "recomendaciones", "recomienda"),
        "en": ("recommendation", "recommendations", "recommends", "recommend"),
    },
    "score": {
        "nl": ("score", "scores", "scoort", "scoorde", "scoren", "punten"),
        "es": ("puntuación", "puntuaciones", "puntaje", "puntajes", "puntos", "obtuvo"),
        "en": ("score", "scores", "scored", "points"),
    },
    "sub-indicator": {
        "nl": ("subindicator", "subindicatoren", "indicatoren"),
        "es": ("subindicador", "subindicadores", "indicadores"),
        "en": ("sub-indicator", "sub-indicators", "subindicators", "indicators"),
    },
    "dimension": {
        "nl": ("dimensie", "dimensies", "pijler", "pijlers"),
        "es": ("dimensión", "dimensiones"),
        "en": ("dimension", "dimensions", "pillar", "pillars"),
    },
    "enabling factors": {
        "nl": ("randvoorwaarden", "randvoorwaarde"),
        "es": ("factores habilitantes", "factor habilitante", "habilitantes"),
        "en": ("enabling factors", "enabling factor", "enablers"),
    },
    "weight": {
        "nl": ("gewicht", "weging", "weegt", "telt"),
        "es": ("peso", "pesos", "pondera", "ponderación"),
        "en": ("weight", "weights", "weighted", "weighting"),
    },
    "research": {
        "nl": ("onderzoek", "onderzoekscentra"),
        "es": ("investigación", "centros de investigación"),
        "en": ("research", "research centres", "research centers"),
    },
    "adoption": {
        "nl": ("adoptie", "gebruik"),
        "es": ("adopción", "uso"),
        "en": ("adoption", "use", "usage"),
    },
    "connectivity": {
        "nl": ("connectiviteit", "verbinding", "internettoegang"),
        "es": ("conectividad",),
        "en": ("connectivity",),
    },
    "infrastructure": {
        "nl": ("infrastructuur",),
        "es": ("infraestructura",),
        "en": ("infrastructure",),
    },
    "traffic": {
        "nl": ("verkeer", "bezoeken"),
        "es": ("tráfico", "visitas"),
        "en": ("traffic", "visits"),
    },
    "internet users": {
        "nl": ("internetgebruikers",),
        "es": ("usuarios de internet", "internautas"),
        "en": ("internet users",),
    },
    "gdp": {"nl": ("bbp",), "es": ("pib",), "en": ("gdp",)},
    "average": {
        "nl": ("gemiddelde", "gemiddeld"),
        "es": ("promedio", "media"),
        "en": ("average", "mean"),
    },
    "cooperation": {
        "nl": ("samenwerking", "samenwerken", "samenwerkingsverband"),
        "es": ("cooperación", "cooperar", "colaboración"),
        "en": ("cooperation", "cooperate", "collaboration"),
    },
    "regulation": {
        "nl": ("regelgeving", "regulering"),
        "es": ("regulación", "normativa"),
        "en": ("regulation", "regulatory"),
    },
    "gender": {
        "nl": ("gender", "gendergelijkheid"),
        "es": ("género", "igualdad de género"),
        "en": ("gender", "gender equality"),
    },
    "environment": {
        "nl": ("milieu", "milieueffecten", "milieuschade", "milieubescherming"),
        "es": ("medio ambiente", "ambiental", "medioambiental"),
        "en": ("environment", "environmental"),
    },
    "inclusion": {
        "nl": ("inclusie", "inclusief", "inclusieve"),
        "es": ("inclusión", "inclusivo", "inclusiva"),
        "en": ("inclusion", "inclusive"),
    },
    "education": {
        "nl": ("onderwijs", "opleiding", "opleidingen", "curricula"),
        "es": ("educación", "formación", "planes de estudio"),
        "en": ("education", "training", "curricula"),
    },
    "postgraduate": {
        "nl": ("masteropleidingen", "postdoctorale", "postacademische"),
        "es": ("posgrado", "posgrados"),
        "en": ("postgraduate", "graduate programmes"),
    },
    "health": {
        "nl": ("gezondheid", "gezondheidszorg", "zorg"),
        "es": ("salud", "sanitaria"),
        "en": ("health", "healthcare", "health care"),
    },
    "transparency": {
        "nl": ("transparantie",),
        "es": ("transparencia",),
        "en": ("transparency",),
    },
    "edition": {
        "nl": ("editie", "edities", "uitgave"),
        "es": ("edición", "ediciones"),
        "en": ("edition", "editions"),
    },
    "budget": {
        "nl": ("budget", "begroting", "financiering", "middelen"),
        "es": ("presupuesto", "financiamiento", "financiación", "recursos"),
        "en": ("budget", "funding", "funded", "resources"),
    },
    "evaluation": {
        "nl": ("evaluatie", "evalueren", "geëvalueerd"),
        "es": ("evaluación", "evaluar", "evalúan"),
        "en": ("evaluation", "evaluate", "evaluated"),
    },
    "global": {
        "nl": ("wereldwijd", "wereldwijde", "mondiale", "wereld"),
        "es": ("mundial", "global", "mundo"),
        "en": ("global", "worldwide", "world"),
    },
    "identity": {
        "nl": ("identiteit",),
        "es": ("identidad",),
        "en": ("identity",),
    },
    "university": {
        "nl": ("universiteit", "universiteiten"),
        "es": ("universidad", "universidades"),
        "en": ("university", "universities"),
    },
    "industry": {
        "nl": ("bedrijfsleven", "industrie", "bedrijven"),
        "es": ("industria", "empresas"),
        "en": ("industry", "companies", "business"),
    },
    "information note": {
        "nl": ("informatienota", "informatieve nota"),
        "es": ("nota informativa",),
        "en": ("information note",),
    },
    "presented": {
        "nl": ("gepresenteerd", "presentatie", "voorgesteld"),
        "es": ("presentado", "presentó", "presentación"),
        "en": ("presented", "presentation", "launched"),
    },
    "gap": {
        "nl": ("kloof", "achterstand", "afstand", "verschil"),
        "es": ("brecha", "distancia", "diferencia"),
        "en": ("gap", "distance", "difference"),
    },
    "widen": {
        "nl": ("groeit", "groter", "toegenomen", "verbreed", "vergroot"),
        "es": ("ampliado", "ampliar", "amplía", "creciente", "aumentado"),
        "en": ("widen", "widened", "widening", "grown", "growing"),
    },
    "improve": {
        "nl": ("verbeteren", "verbeterd", "verbeterden", "verbetering", "verbeteringen",
               "vooruitgang", "vooruitgaan", "vooruit"),
        "es": ("mejorar", "mejoraron", "mejora", "mejoras", "avance", "avances", "progreso",
               "avanzan", "avanzaron"),
        "en": ("improve", "improved", "improvement", "improvements", "progress", "advance",
               "advanced", "gains"),
    },
    "fast": {
        "nl": ("snel", "snelst", "snelste", "sneller"),
        "es": ("rápido", "rápida", "rápidamente", "rapidez"),
        "en": ("fast", "fastest", "faster", "quickly", "rapid", "rapidly"),
    },
    "missing": {
        "nl": ("ontbreken", "ontbreekt", "ontbrekende", "missen", "mist", "ontbrak"),
        "es": ("faltan", "falta", "ausentes", "ausente", "omiten", "carecen"),
        "en": ("missing", "lack", "lacking", "absent", "omit", "omitted", "neglected",
               "leave out", "left out"),
    },
    "government": {
        "nl": ("overheid", "overheden", "regering", "regeringen"),
        "es": ("gobierno", "gobiernos"),
        "en": ("government", "governments"),
    },
    "advice": {
        "nl": ("advies", "adviseert", "raadt"),
        "es": ("aconseja", "aconsejar", "consejo", "sugiere"),
        "en": ("advice", "advise", "advises", "suggests"),
    },
    "risk": {
        "nl": ("risico", "risico's", "gevaar"),
        "es": ("riesgo", "riesgos", "peligro"),
        "en": ("risk", "risks", "danger"),
    },
    "decline": {
        "nl": ("degradatie", "terugval", "zakken", "afzakken", "daling"),
        "es": ("descenso", "retroceso", "caer", "bajar"),
        "en": ("decline", "relegation", "slip", "slipping", "fall", "drop"),
    },
    "threshold": {
        "nl": ("drempel", "grens", "ondergrens"),
        "es": ("umbral", "límite"),
        "en": ("threshold", "cut-off", "cutoff"),
    },
    "alliance": {
        "nl": ("alliantie", "samenwerkingsverband", "verbond", "unie"),
        "es": ("alianza", "unión"),
        "en": ("alliance", "union", "partnership"),
    },
}
