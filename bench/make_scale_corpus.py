"""Generate a large, deterministic PDF corpus for the scale benchmarks.

    .venv/bin/python bench/make_scale_corpus.py [--docs 60] [--seed 2025] [--out DIR] [--force]

Writes `--docs` reports (a third each in Dutch, Spanish and English, about 34
A4 pages each, so 60 reports make some 2,000 pages) into
`bench/.cache/scale-corpus/` by default, and reuses them when they are there
already with the same parameters. Every report covers one Latin American
country: numbered sections and subsections (which the structure recovery
reads as headings), paragraphs drawn from sentence templates filled with
country names, years, percentages and scores, bullet lists, and captioned
tables. The text is synthetic but has the shape of the sample corpus: the
same vocabulary, numbers in every sentence, names that the term map knows.

The output is byte-for-byte reproducible for a given seed (fixed creation
date, seeded random generators), so the content hashes, and with them the
"unchanged" check of a re-ingest, are stable across runs and machines.

Rendering reuses `corpus/build_pdfs.py` (DejaVu Sans from `fonts-dejavu-core`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from benchlib import CACHE_DIR, PROJECT_ROOT

DEFAULT_OUT = CACHE_DIR / "scale-corpus"
DEFAULT_DOCS = 60
DEFAULT_SEED = 2025
# Paragraphs per (sub)section; with the tables and bullets this gives ~34 pages.
PARAGRAPHS = 9
# Bump when the generated text changes, so a cached corpus is rebuilt.
GENERATOR_VERSION = 1
MANIFEST = "corpus.json"
LANGUAGES = ("nl", "es", "en")


def _load_builder() -> ModuleType:
    """corpus/build_pdfs.py is a script, not a package: load it by path."""
    path = PROJECT_ROOT / "corpus" / "build_pdfs.py"
    spec = importlib.util.spec_from_file_location("build_pdfs", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- vocabulary -----------------------------------------------------------------------------

COUNTRIES: dict[str, list[str]] = {
    "nl": ["Argentinië", "Bolivia", "Brazilië", "Chili", "Colombia", "Costa Rica", "Cuba",
           "Dominicaanse Republiek", "Ecuador", "El Salvador", "Guatemala", "Honduras",
           "Jamaica", "Mexico", "Panama", "Paraguay", "Peru", "Uruguay", "Venezuela"],
    "es": ["Argentina", "Bolivia", "Brasil", "Chile", "Colombia", "Costa Rica", "Cuba",
           "República Dominicana", "Ecuador", "El Salvador", "Guatemala", "Honduras",
           "Jamaica", "México", "Panamá", "Paraguay", "Perú", "Uruguay", "Venezuela"],
    "en": ["Argentina", "Bolivia", "Brazil", "Chile", "Colombia", "Costa Rica", "Cuba",
           "Dominican Republic", "Ecuador", "El Salvador", "Guatemala", "Honduras",
           "Jamaica", "Mexico", "Panama", "Paraguay", "Peru", "Uruguay", "Venezuela"],
}

# (number, {language: heading}, {language: topic nouns}); subsections have dotted numbers.
SECTIONS: list[tuple[str, dict[str, str], dict[str, list[str]]]] = [
    ("1.", {"nl": "Samenvatting", "es": "Resumen ejecutivo", "en": "Summary"},
     {"nl": ["de AI-paraatheid", "de totaalscore", "de digitale economie"],
      "es": ["la preparación para la IA", "la puntuación total", "la economía digital"],
      "en": ["AI readiness", "the total score", "the digital economy"]}),
    ("2.", {"nl": "Context en methode", "es": "Contexto y metodología",
            "en": "Context and method"},
     {"nl": ["de subindicatoren", "de weging van de dimensies", "de databronnen"],
      "es": ["los subindicadores", "la ponderación de las dimensiones", "las fuentes de datos"],
      "en": ["the subindicators", "the weighting of the dimensions", "the data sources"]}),
    ("3.", {"nl": "Digitale infrastructuur", "es": "Infraestructura digital",
            "en": "Digital infrastructure"},
     {"nl": ["de glasvezeldekking", "het mobiele breedband", "de rekenkracht"],
      "es": ["la cobertura de fibra óptica", "la banda ancha móvil", "la capacidad de cómputo"],
      "en": ["fibre coverage", "mobile broadband", "computing capacity"]}),
    ("3.1", {"nl": "Connectiviteit", "es": "Conectividad", "en": "Connectivity"},
     {"nl": ["de internetpenetratie", "de 5G-dekking", "de snelheid van vaste verbindingen"],
      "es": ["la penetración de internet", "la cobertura 5G", "la velocidad de la red fija"],
      "en": ["internet penetration", "5G coverage", "fixed-line speed"]}),
    ("3.2", {"nl": "Datacenters en rekenkracht", "es": "Centros de datos y cómputo",
             "en": "Data centres and computing"},
     {"nl": ["de datacentercapaciteit", "de toegang tot GPU's", "de cloudinfrastructuur"],
      "es": ["la capacidad de los centros de datos", "el acceso a GPU",
             "la infraestructura en la nube"],
      "en": ["data-centre capacity", "access to GPUs", "cloud infrastructure"]}),
    ("4.", {"nl": "Talent en onderwijs", "es": "Talento y educación",
            "en": "Talent and education"},
     {"nl": ["het aantal AI-specialisten", "de digitale vaardigheden", "de STEM-opleidingen"],
      "es": ["el número de especialistas en IA", "las habilidades digitales",
             "las carreras STEM"],
      "en": ["the number of AI specialists", "digital skills", "STEM degrees"]}),
    ("5.", {"nl": "Onderzoek en ontwikkeling", "es": "Investigación y desarrollo",
            "en": "Research and development"},
     {"nl": ["de wetenschappelijke publicaties", "de AI-octrooien",
             "de samenwerking met bedrijven"],
      "es": ["las publicaciones científicas", "las patentes de IA",
             "la colaboración con empresas"],
      "en": ["scientific publications", "AI patents", "collaboration with industry"]}),
    ("6.", {"nl": "Adoptie per sector", "es": "Adopción por sector", "en": "Adoption by sector"},
     {"nl": ["het gebruik van AI-diensten", "de automatisering", "de generatieve AI"],
      "es": ["el uso de servicios de IA", "la automatización", "la IA generativa"],
      "en": ["the use of AI services", "automation", "generative AI"]}),
    ("6.1", {"nl": "Landbouw", "es": "Agricultura", "en": "Agriculture"},
     {"nl": ["de precisielandbouw", "de oogstvoorspelling", "het waterbeheer"],
      "es": ["la agricultura de precisión", "la predicción de cosechas", "la gestión del agua"],
      "en": ["precision farming", "harvest forecasting", "water management"]}),
    ("6.2", {"nl": "Gezondheidszorg", "es": "Salud", "en": "Health"},
     {"nl": ["de medische beeldvorming", "de telegeneeskunde", "de ziekenhuisplanning"],
      "es": ["el diagnóstico por imágenes", "la telemedicina", "la gestión hospitalaria"],
      "en": ["medical imaging", "telemedicine", "hospital planning"]}),
    ("6.3", {"nl": "Overheid", "es": "Sector público", "en": "Public sector"},
     {"nl": ["de digitale overheidsdiensten", "de belastinginning", "de open data"],
      "es": ["los servicios públicos digitales", "la recaudación tributaria",
             "los datos abiertos"],
      "en": ["digital public services", "tax collection", "open data"]}),
    ("6.4", {"nl": "Financiële diensten", "es": "Servicios financieros",
             "en": "Financial services"},
     {"nl": ["de fraudedetectie", "de kredietbeoordeling", "de fintechsector"],
      "es": ["la detección de fraude", "la evaluación crediticia", "el sector fintech"],
      "en": ["fraud detection", "credit scoring", "the fintech sector"]}),
    ("7.", {"nl": "Investeringen", "es": "Inversión", "en": "Investment"},
     {"nl": ["het durfkapitaal", "de publieke investeringen", "de buitenlandse investeringen"],
      "es": ["el capital de riesgo", "la inversión pública", "la inversión extranjera"],
      "en": ["venture capital", "public investment", "foreign investment"]}),
    ("8.", {"nl": "Governance en regelgeving", "es": "Gobernanza y regulación",
            "en": "Governance and regulation"},
     {"nl": ["de nationale AI-strategie", "de regelgeving voor algoritmen",
             "de gegevensbescherming"],
      "es": ["la estrategia nacional de IA", "la regulación de algoritmos",
             "la protección de datos"],
      "en": ["the national AI strategy", "the regulation of algorithms", "data protection"]}),
    ("9.", {"nl": "Vergelijking met de regio", "es": "Comparación regional",
            "en": "Regional comparison"},
     {"nl": ["de positie in de ranglijst", "het regionale gemiddelde", "de kopgroep"],
      "es": ["la posición en la clasificación", "el promedio regional", "los pioneros"],
      "en": ["the position in the ranking", "the regional average", "the pioneers"]}),
    ("10.", {"nl": "Aanbevelingen", "es": "Recomendaciones", "en": "Recommendations"},
     {"nl": ["de regionale samenwerking", "de financiering van onderzoek",
             "de evaluatie van beleid"],
      "es": ["la cooperación regional", "el financiamiento de la investigación",
             "la evaluación de las políticas"],
      "en": ["regional cooperation", "research funding", "policy evaluation"]}),
    ("10.1", {"nl": "Korte termijn", "es": "Corto plazo", "en": "Short term"},
     {"nl": ["de begroting voor 2026", "de opleidingsprogramma's", "de publieke datasets"],
      "es": ["el presupuesto de 2026", "los programas de formación",
             "los conjuntos de datos públicos"],
      "en": ["the 2026 budget", "training programmes", "public datasets"]}),
    ("10.2", {"nl": "Lange termijn", "es": "Largo plazo", "en": "Long term"},
     {"nl": ["de eigen taalmodellen", "de regionale rekeninfrastructuur", "de AI-identiteit"],
      "es": ["los modelos de lenguaje propios", "la infraestructura regional de cómputo",
             "la identidad de IA"],
      "en": ["home-grown language models", "regional computing infrastructure",
             "the regional AI identity"]}),
]

ORGS: dict[str, list[str]] = {
    "nl": ["het ministerie van Wetenschap", "de nationale statistiekdienst", "CENIA",
           "de CEPAL", "de Inter-Amerikaanse Ontwikkelingsbank", "de centrale bank"],
    "es": ["el Ministerio de Ciencia", "el instituto nacional de estadística", "el CENIA",
           "la CEPAL", "el Banco Interamericano de Desarrollo", "el banco central"],
    "en": ["the Ministry of Science", "the national statistics office", "CENIA",
           "ECLAC", "the Inter-American Development Bank", "the central bank"],
}

UPDOWN: dict[str, tuple[str, str]] = {
    "nl": ("een stijging van", "een daling van"),
    "es": ("un aumento de", "una caída de"),
    "en": ("an increase of", "a decrease of"),
}

TIERS: dict[str, list[str]] = {
    "nl": ["de kopgroep", "de middengroep", "de achterblijvers"],
    "es": ["los pioneros", "los adoptantes", "los exploradores"],
    "en": ["the pioneers", "the adopters", "the explorers"],
}

TEMPLATES: dict[str, list[str]] = {
    "nl": [
        "In {year} scoorde {country} {score} punten op {topic}, {updown} {delta} punten "
        "ten opzichte van {prev}.",
        "Volgens {org} bereikte {topic} in {country} {pct} % van de bevolking in {year}.",
        "{country} behoort voor {topic} tot {tier}, samen met {other}.",
        "Het regionale gemiddelde voor {topic} lag in {year} op {score} punten; {country} "
        "zat daar {delta} punten {side}.",
        "Tussen {prev} en {year} verdubbelde het budget voor {topic} in {country} bijna, "
        "tot {money} miljoen dollar.",
        "Slechts {pct} % van de bedrijven in {country} gebruikt AI voor {topic}, tegenover "
        "{pct2} % in {other}.",
        "{org} telde in {year} {count} projecten rond {topic} in {country}.",
        "De achterstand van {country} op {other} wat betreft {topic} bedraagt {delta} punten.",
        "Voor {topic} noemen de respondenten in {country} vooral de kosten en het gebrek "
        "aan gespecialiseerd personeel als obstakels.",
        "Sinds {prev} publiceert {org} jaarlijks cijfers over {topic}; de reeks voor "
        "{country} toont een gestage groei van {pct} % per jaar.",
        "Een vergelijking met {other} laat zien dat {topic} in {country} vooral in de "
        "hoofdstad geconcentreerd is.",
        "Wij lezen de daling van {delta} punten bij {topic} als een signaal, niet als een "
        "bewezen achteruitgang.",
        "In {year} werkten in {country} naar schatting {count} mensen aan {topic}.",
        "De score van {country} voor {topic} ({score}) ligt boven die van {other} ({score2}).",
    ],
    "es": [
        "En {year}, {country} obtuvo {score} puntos en {topic}, {updown} {delta} puntos "
        "respecto de {prev}.",
        "Según {org}, {topic} en {country} alcanzó al {pct} % de la población en {year}.",
        "En {topic}, {country} forma parte de {tier}, junto con {other}.",
        "El promedio regional de {topic} fue de {score} puntos en {year}; {country} quedó "
        "{delta} puntos {side}.",
        "Entre {prev} y {year}, el presupuesto para {topic} en {country} casi se duplicó, "
        "hasta {money} millones de dólares.",
        "Solo el {pct} % de las empresas de {country} usa IA para {topic}, frente al "
        "{pct2} % en {other}.",
        "{org} registró {count} proyectos sobre {topic} en {country} durante {year}.",
        "La distancia entre {country} y {other} en {topic} es de {delta} puntos.",
        "En cuanto a {topic}, las personas encuestadas en {country} señalan sobre todo los "
        "costos y la falta de personal especializado.",
        "Desde {prev}, {org} publica cada año datos sobre {topic}; la serie de {country} "
        "muestra un crecimiento sostenido del {pct} % anual.",
        "La comparación con {other} muestra que {topic} en {country} se concentra sobre "
        "todo en la capital.",
        "Interpretamos la caída de {delta} puntos en {topic} como una señal, no como un "
        "retroceso demostrado.",
        "En {year} trabajaban en {country} unas {count} personas en {topic}.",
        "La puntuación de {country} en {topic} ({score}) supera a la de {other} ({score2}).",
    ],
    "en": [
        "In {year}, {country} scored {score} points on {topic}, {updown} {delta} points "
        "compared with {prev}.",
        "According to {org}, {topic} in {country} reached {pct}% of the population in {year}.",
        "On {topic}, {country} belongs to {tier}, together with {other}.",
        "The regional average for {topic} was {score} points in {year}; {country} was "
        "{delta} points {side}.",
        "Between {prev} and {year}, the budget for {topic} in {country} nearly doubled, to "
        "{money} million dollars.",
        "Only {pct}% of firms in {country} use AI for {topic}, against {pct2}% in {other}.",
        "{org} counted {count} projects on {topic} in {country} in {year}.",
        "The gap between {country} and {other} on {topic} is {delta} points.",
        "On {topic}, respondents in {country} mostly name costs and the lack of "
        "specialised staff as obstacles.",
        "Since {prev}, {org} has published yearly figures on {topic}; the series for "
        "{country} shows steady growth of {pct}% a year.",
        "A comparison with {other} shows that {topic} in {country} is concentrated in the "
        "capital.",
        "We read the drop of {delta} points on {topic} as a signal, not as a proven decline.",
        "In {year}, an estimated {count} people in {country} worked on {topic}.",
        "The score of {country} on {topic} ({score}) is above that of {other} ({score2}).",
    ],
}

SIDES: dict[str, tuple[str, str]] = {
    "nl": ("boven", "onder"),
    "es": ("por encima", "por debajo"),
    "en": ("above", "below"),
}

TITLES: dict[str, str] = {
    "nl": "AI in {country}: landenrapport {n}",
    "es": "La inteligencia artificial en {country}: informe país {n}",
    "en": "Artificial intelligence in {country}: country report {n}",
}

SUBTITLES: dict[str, str] = {
    "nl": "Landenrapport · Observatorium voor Digitale Economie · november 2025",
    "es": "Informe país · Observatorio de Economía Digital · noviembre de 2025",
    "en": "Country report · Digital Economy Observatory · November 2025",
}

TABLE_WORDS: dict[str, tuple[str, str, str, str, str]] = {
    # caption word, "by country", and the headers of the rank, country and score columns
    "nl": ("Tabel", "per land", "Rang", "Land", "Score"),
    "es": ("Tabla", "por país", "Puesto", "País", "Puntuación"),
    "en": ("Table", "by country", "Rank", "Country", "Score"),
}

BULLET_LEADS: dict[str, list[str]] = {
    "nl": ["Prioriteit:", "Risico:", "Kans:"],
    "es": ["Prioridad:", "Riesgo:", "Oportunidad:"],
    "en": ["Priority:", "Risk:", "Opportunity:"],
}


# --- generation -----------------------------------------------------------------------------


def _number(value: float, language: str, decimals: int = 2) -> str:
    text = f"{value:.{decimals}f}"
    # Dutch and Spanish write a decimal comma, as in the sample corpus.
    return text.replace(".", ",") if language in ("nl", "es") else text


@dataclass(frozen=True)
class Report:
    stem: str
    language: str
    country: str
    markdown: str


def _sentence(rng: random.Random, language: str, country: str, topic: str) -> str:
    others = [c for c in COUNTRIES[language] if c != country]
    year = rng.randint(2019, 2025)
    up = rng.random() < 0.6
    values = {
        "country": country,
        "other": rng.choice(others),
        "topic": topic,
        "year": year,
        "prev": year - rng.randint(1, 4),
        "score": _number(rng.uniform(18, 78), language),
        "score2": _number(rng.uniform(15, 70), language),
        "delta": _number(rng.uniform(0.3, 12), language),
        "pct": _number(rng.uniform(2, 95), language, 1),
        "pct2": _number(rng.uniform(2, 95), language, 1),
        "money": rng.randint(3, 900),
        "count": rng.randint(12, 4800),
        "org": rng.choice(ORGS[language]),
        "tier": rng.choice(TIERS[language]),
        "updown": UPDOWN[language][0 if up else 1],
        "side": SIDES[language][0 if up else 1],
    }
    text = rng.choice(TEMPLATES[language]).format(**values)
    return text[0].upper() + text[1:]


def _table(rng: random.Random, language: str, number: int, topic: str) -> list[str]:
    word, by_country, rank, country_word, score = TABLE_WORDS[language]
    year = rng.randint(2022, 2025)
    countries = rng.sample(COUNTRIES[language], 8)
    scores = sorted((rng.uniform(20, 75) for _ in countries), reverse=True)
    lines = [f"{word} {number}. {topic[0].upper()}{topic[1:]} {by_country}, {year}", ""]
    lines += [f"| {rank} | {country_word} | {score} | {year - 1} |", "|---|---|---|---|"]
    for i, (name, value) in enumerate(zip(countries, scores, strict=True), 1):
        previous = value + rng.uniform(-6, 6)
        lines.append(
            f"| {i} | {name} | {_number(value, language)} | {_number(previous, language)} |"
        )
    return lines


def make_report(index: int, language: str, seed: int) -> Report:
    """One report as Markdown (the subset `corpus/build_pdfs.py` understands)."""
    # One generator per report: a report does not change when --docs changes.
    rng = random.Random(f"{seed}:{index}:{language}")
    country = COUNTRIES[language][index % len(COUNTRIES[language])]
    lines = [f"# {TITLES[language].format(country=country, n=index + 1)}",
             SUBTITLES[language], ""]
    for tables, (number, headings, topics) in enumerate(SECTIONS, 1):
        level = 2 if number.endswith(".") else 3
        lines += [f"{'#' * level} {number} {headings[language]}", ""]
        for p in range(PARAGRAPHS):
            topic = rng.choice(topics[language])
            sentences = [_sentence(rng, language, country, topic)
                         for _ in range(rng.randint(4, 7))]
            lines += [" ".join(sentences), ""]
            if p == PARAGRAPHS // 2:
                for lead in BULLET_LEADS[language]:
                    lines.append(f"- {lead} {_sentence(rng, language, country, topic)}")
                lines.append("")
        lines += [*_table(rng, language, tables, rng.choice(topics[language])), ""]
    stem = f"scale-{index + 1:03d}-{language}"
    return Report(stem, language, country, "\n".join(lines))


def render(builder: ModuleType, report: Report, target: Path) -> int:
    """Render a report to PDF the way corpus/build_pdfs.py renders the sample corpus."""
    doc = builder.parse_markdown(report.markdown)
    pdf = builder.ReportPDF(format="A4", unit="mm")
    pdf.set_margins(builder.MARGIN, builder.MARGIN, builder.MARGIN)
    pdf.set_auto_page_break(True, margin=builder.MARGIN)
    pdf.add_font(builder.FONT, "", str(builder.FONT_REGULAR))
    pdf.add_font(builder.FONT, "B", str(builder.FONT_BOLD))
    pdf.set_title(doc.title)
    pdf.set_author("Digital Economy Observatory")
    pdf.set_subject(doc.subtitle)
    pdf.set_lang(report.language)
    pdf.set_producer("fpdf2")
    pdf.set_creation_date(builder.CREATION_DATE)
    pdf.add_page()
    pdf.set_font(builder.FONT, "B", builder.HEADING_SIZES[1])
    pdf.multi_cell(0, builder.HEADING_SIZES[1] * 0.5, doc.title, align="L",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(builder.FONT, size=builder.BODY_SIZE)
    pdf.multi_cell(0, builder.BODY_LINE, doc.subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for block in doc.blocks:
        if block.kind == "heading":
            builder.render_heading(pdf, block)
        elif block.kind == "table":
            builder.render_table(pdf, block)
        elif block.kind == "bullet":
            builder.render_bullet(pdf, block.text)
        else:
            builder.render_paragraph(pdf, block.text)
    pdf.output(str(target))
    return int(pdf.pages_count)


def plan(docs: int) -> list[tuple[int, str]]:
    """(index, language) for every report: languages take turns, so any prefix is mixed."""
    return [(i // len(LANGUAGES), LANGUAGES[i % len(LANGUAGES)]) for i in range(docs)]


def ensure_corpus(out: Path = DEFAULT_OUT, docs: int = DEFAULT_DOCS, seed: int = DEFAULT_SEED,
                  force: bool = False, quiet: bool = False) -> dict[str, object]:
    """Build the corpus into `out` unless it is there with the same parameters.

    Returns the manifest: parameters, files, pages per file, total pages.
    """
    params = {"docs": docs, "seed": seed, "version": GENERATOR_VERSION,
              "paragraphs": PARAGRAPHS}
    manifest_path = out / MANIFEST
    if manifest_path.is_file() and not force:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = [out / name for name in manifest.get("pages", {})]
        if manifest.get("params") == params and all(f.is_file() for f in files):
            return manifest
    builder = _load_builder()
    builder.check_fonts()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.pdf"):
        stale.unlink()
    started = time.perf_counter()
    pages: dict[str, int] = {}
    for n, (index, language) in enumerate(plan(docs), 1):
        report = make_report(index, language, seed)
        name = f"{report.stem}.pdf"
        pages[name] = render(builder, report, out / name)
        if not quiet:
            print(f"  [{n}/{docs}] {name}: {pages[name]} pages ({report.country})",
                  file=sys.stderr)
    manifest = {"params": params, "pages": pages, "total_pages": sum(pages.values()),
                "build_seconds": round(time.perf_counter() - started, 1)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def corpus_files(out: Path = DEFAULT_OUT) -> list[Path]:
    return sorted(out.glob("*.pdf"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=DEFAULT_DOCS,
                        help=f"reports to generate (default {DEFAULT_DOCS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default bench/.cache/scale-corpus)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    manifest = ensure_corpus(args.out, args.docs, args.seed, args.force)
    pages = manifest["pages"]
    assert isinstance(pages, dict)
    by_language = {lang: sum(n for name, n in pages.items() if name.endswith(f"-{lang}.pdf"))
                   for lang in LANGUAGES}
    print(f"{len(pages)} PDFs, {manifest['total_pages']} pages "
          f"({', '.join(f'{k} {v}' for k, v in by_language.items())}) in {args.out}"
          f" (built in {manifest['build_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
