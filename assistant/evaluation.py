"""Evaluation on a question set, through the real pipeline.

Retrieval is scored against the expected (document, page) of each answerable
question: hit@1, hit@5 and MRR@10, overall and as a matrix of question
language × source language. Answers are scored on "not found" for the
unanswerable questions, on being in the question's language, and on the key
facts they contain. Latency is the wall time of retrieval plus answer.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.answer import ORIGINAL_PREFIX
from assistant.core import Assistant
from assistant.language import SUPPORTED, detect_language
from assistant.textnorm import fold

# What CI requires on each sample corpus's test split ("most" bars are floors,
# the others ceilings).
BARS = {
    "hit_at_5": 0.90,
    "key_fact_recall": 0.80,
    "false_not_found": 0.05,
    "unanswerable_accuracy": 0.90,
    "broad_recall": 0.70,
    "duplicate_answers": 0,
    "answer_language_accuracy": 0.95,
}
# The level each sample corpus's test split has reached so far, below the bars:
# CI fails when a change falls under it. The bars are the aim.
FLOORS = {
    "hit_at_5": 0.85,
    "key_fact_recall": 0.65,
    "false_not_found": 0.10,
    "unanswerable_accuracy": 0.50,
    "broad_recall": 0.50,
    "duplicate_answers": 0,
    "answer_language_accuracy": 0.95,
}

# What CI requires of a language model's answers, with the 0.5B test model.
GENERATION_FLOORS = {"citation_validity": 0.90, "answer_language_accuracy": 0.90}


@dataclass(frozen=True)
class Source:
    document: str
    page: int
    section: str


@dataclass(frozen=True)
class Question:
    id: str
    language: str
    question: str
    answerable: bool
    sources: list[Source]
    key_facts: list[list[str]]
    kind: str = ""
    split: str = ""


@dataclass
class QuestionResult:
    id: str
    language: str
    answerable: bool
    rank: int | None  # 1-based rank of the first expected (document, page), within 10
    found: bool
    answer_language: str
    detected_language: str
    facts_found: int
    facts_total: int
    seconds: float
    source_language: str = ""
    kind: str = ""
    generator: str = "extractive"  # what wrote the answer (a model, or the fallback)
    citations: int = 0
    invalid_markers: int = 0
    unsupported_sentences: int = 0
    duplicated: bool = False  # the answer quotes one fact twice
    # Share of the answer's sentences (quoted or written) in the question's language.
    text_in_language: float | None = None
    # Key facts in the answer without the quotes kept under translated lines.
    facts_without_originals: int = 0
    answer: str = ""
    split: str = ""


@dataclass
class EvaluationReport:
    questions: int
    answerable: int
    unanswerable: int
    hit_at_1: float
    hit_at_5: float
    mrr_at_10: float
    matrix: dict[str, dict[str, float | None]]
    matrix_counts: dict[str, dict[str, int]]
    unanswerable_accuracy: float
    answer_language_accuracy: float
    question_language_accuracy: float
    key_fact_recall: float
    latency_p50_ms: float
    latency_p95_ms: float
    settings: dict[str, Any]
    # Generated answers only (a language model wrote them): their share of the
    # answers given, the share whose citations are all valid (at least one, none
    # pointing at a missing passage), and the share with a flagged sentence.
    generated_share: float = 0.0
    citation_validity: float | None = None
    answers_with_unsupported: float | None = None
    answers_with_invalid_markers: float | None = None  # markers removed by the check
    # Answerable questions answered "not found"; key-fact recall of the broad
    # questions; answers quoting one fact twice.
    false_not_found: float = 0.0
    broad_recall: float | None = None
    duplicate_answers: int = 0
    # Mean share of each answer's sentences that are in the question's language (the
    # detector on each quoted line or written sentence; quotes keep their source's).
    text_in_language: float | None = None
    # Key-fact recall of the answer's own lines alone: without the quotes that the
    # "translate" style keeps under each translated line.
    key_fact_recall_without_originals: float | None = None
    split: str = "all"
    results: list[QuestionResult] = field(default_factory=list)

    def failed_bars(self, limits: dict[str, float] | None = None) -> list[str]:
        """The quality bars missed (or the given `limits`, such as `FLOORS`)."""
        bars = limits or BARS
        failures = []
        if self.hit_at_5 < bars["hit_at_5"]:
            failures.append(f"hit@5 {self.hit_at_5:.2f} < {bars['hit_at_5']}")
        if self.key_fact_recall < bars["key_fact_recall"]:
            failures.append(
                f"key-fact recall {self.key_fact_recall:.2f} < {bars['key_fact_recall']}"
            )
        if self.false_not_found > bars["false_not_found"]:
            failures.append(
                f"false not found {self.false_not_found:.2f} > {bars['false_not_found']}"
            )
        if self.broad_recall is not None and self.broad_recall < bars["broad_recall"]:
            failures.append(f"broad recall {self.broad_recall:.2f} < {bars['broad_recall']}")
        if self.duplicate_answers > bars["duplicate_answers"]:
            failures.append(f"{self.duplicate_answers} answers quote a fact twice "
                            f"> {bars['duplicate_answers']}")
        if self.unanswerable_accuracy < bars["unanswerable_accuracy"]:
            failures.append(
                f"unanswerable {self.unanswerable_accuracy:.2f} < {bars['unanswerable_accuracy']}"
            )
        if self.answer_language_accuracy < bars["answer_language_accuracy"]:
            failures.append(
                f"answer language {self.answer_language_accuracy:.2f} "
                f"< {bars['answer_language_accuracy']}"
            )
        return failures

    def failed_floors(self) -> list[str]:
        """The generation floors missed (only for runs where a model wrote answers)."""
        if self.citation_validity is None:
            return []
        failures = []
        if self.citation_validity < GENERATION_FLOORS["citation_validity"]:
            failures.append(f"citation validity {self.citation_validity:.2f} < 0.9")
        if self.answer_language_accuracy < GENERATION_FLOORS["answer_language_accuracy"]:
            failures.append(f"answer language {self.answer_language_accuracy:.2f} < 0.9")
        return failures

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    def to_markdown(self) -> str:
        lines = [
            "| Measure | Value |",
            "|---|---|",
            f"| Questions ({self.split}) | {self.questions} ({self.answerable} answerable, "
            f"{self.unanswerable} unanswerable) |",
            f"| hit@1 | {self.hit_at_1:.2f} |",
            f"| hit@5 | {self.hit_at_5:.2f} |",
            f"| MRR@10 | {self.mrr_at_10:.2f} |",
            f"| Unanswerable: said not found | {self.unanswerable_accuracy:.2f} |",
            f"| Answer in the question's language | {self.answer_language_accuracy:.2f} |",
            f"| Question language detected | {self.question_language_accuracy:.2f} |",
            f"| Key-fact recall in the answer | {self.key_fact_recall:.2f} |",
            "| … without the quotes kept under translated lines | "
            + ("–" if self.key_fact_recall_without_originals is None
               else f"{self.key_fact_recall_without_originals:.2f}") + " |",
            f"| Answerable but said not found | {self.false_not_found:.2f} |",
            "| Broad questions: key-point recall | "
            + ("–" if self.broad_recall is None else f"{self.broad_recall:.2f}") + " |",
            f"| Answers quoting one fact twice | {self.duplicate_answers} |",
            "| Answer sentences in the question's language | "
            + ("–" if self.text_in_language is None else f"{self.text_in_language:.2f}") + " |",
            f"| Latency p50 / p95 | {self.latency_p50_ms:.0f} / {self.latency_p95_ms:.0f} ms |",
        ]
        if self.citation_validity is not None:
            lines += [
                f"| Answers written by the model | {self.generated_share:.2f} |",
                f"| Citation validity (model answers) | {self.citation_validity:.2f} |",
                "| Model answers with a flagged sentence | "
                f"{self.answers_with_unsupported or 0.0:.2f} |",
                "| Model answers that had a marker to no passage (removed) | "
                f"{self.answers_with_invalid_markers or 0.0:.2f} |",
            ]
        lines += [
            "",
            "hit@5 by question language (rows) × source language (columns), "
            "single-source questions (count):",
            "",
            "| question ↓ source → | " + " | ".join(SUPPORTED) + " |",
            "|---|" + "---|" * len(SUPPORTED),
        ]
        for q in SUPPORTED:
            cells = []
            for s in SUPPORTED:
                value = self.matrix[q][s]
                n = self.matrix_counts[q][s]
                cells.append("–" if value is None else f"{value:.2f} ({n})")
            lines.append(f"| {q} | " + " | ".join(cells) + " |")
        if self.citation_validity is None:
            failures = self.failed_bars()
            lines += ["", "Bars: " + ("all met" if not failures else "; ".join(failures))]
        else:
            failures = self.failed_floors()
            lines += ["", "Model floors: " + ("all met" if not failures else "; ".join(failures))]
        return "\n".join(lines)


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for item in data["questions"]:
        questions.append(
            Question(
                id=str(item["id"]),
                language=item["language"],
                question=item["question"],
                answerable=bool(item["answerable"]),
                sources=[
                    Source(s["document"], int(s["page"]), s["section"])
                    for s in item.get("sources") or []
                ],
                key_facts=[f if isinstance(f, list) else [f] for f in item.get("key_facts") or []],
                kind=str(item.get("kind", "")),
                split=str(item.get("split", "")),
            )
        )
    return questions


def _normalise(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d)", ".", fold(text))


def document_language(file_name: str) -> str:
    """Language of a sample report from its name (report-2025-nl.pdf → nl)."""
    match = re.search(r"-(nl|es|en)\.[a-z]+$", file_name)
    return match.group(1) if match else ""


def _duplicated(assistant: Assistant, answer_text: str) -> bool:
    """Whether two quoted lines of an answer state the same thing (in any languages)."""
    import numpy as np

    # The quote without its marker and the notes after it ("(quoted in Spanish)").
    quoted = [
        re.sub(r"\s*\[\d+\].*$", "", line[2:]).strip()
        for line in answer_text.splitlines() if line.startswith("- ")
    ]
    if len(quoted) < 2:
        return False
    from assistant.extractive import same_fact

    vectors = np.asarray(assistant.embedder.embed_documents(quoted))
    return any(
        same_fact(vectors[i], vectors[j], quoted[i], quoted[j])
        for i in range(len(quoted)) for j in range(i + 1, len(quoted))
    )


def source_rank(hits: Sequence[Any], q: Question) -> int | None:
    """1-based rank of the first passage on an expected (document, page), if any."""
    expected = {(s.document, s.page) for s in q.sources}
    return next(
        (i for i, h in enumerate(hits, 1)
         if (h.metadata.get("file_name"), h.metadata.get("page")) in expected),
        None,
    )


# Spelled-out powers of ten and "per cent" in the three languages, so that a figure
# counts in any of its spellings: a translated answer writes "227 miljard" or
# "227.000 miljoen" for "227.000 millones", and "23%" for "23 %".
_SCALES = {
    "mil millones": 1e9, "thousand": 1e3, "duizend": 1e3, "mil": 1e3,
    "millions": 1e6, "million": 1e6, "miljoen": 1e6, "millones": 1e6, "millon": 1e6,
    "billions": 1e9, "billion": 1e9, "miljard": 1e9,
    "trillion": 1e12, "biljoen": 1e12, "billones": 1e12, "billon": 1e12,
}
_PERCENT = ("%", "percent", "per cent", "procent", "por ciento")
_QUANTITY = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])\s*"
    r"(" + "|".join(re.escape(w) for w in sorted([*_SCALES, *_PERCENT], key=len, reverse=True))
    + r")?(?![a-z])"
)


def _readings(number: str) -> set[float]:
    """The values a written number can have: "227.000" is 227000 in Spanish and Dutch
    and 227.0 in English; "1,12" is 1.12."""
    groups = re.split(r"[.,]", number)
    values = {float(number.replace(",", "."))} if len(groups) <= 2 else set()
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        values.add(float("".join(groups)))
    return values


def quantities(text: str) -> set[tuple[float, bool]]:
    """(value, is a percentage) of every figure in a folded text, scale words applied."""
    found = set()
    for match in _QUANTITY.finditer(text):
        word = match.group(2) or ""
        scale = _SCALES.get(word, 1.0)
        for value in _readings(match.group(1)):
            found.add((float(f"{value * scale:.6g}"), word in _PERCENT))
    return found


def _is_quantity(alt: str) -> bool:
    """Whether a key fact is a figure alone ("227.000 millones", "23 %")."""
    match = _QUANTITY.fullmatch(alt.strip())
    return bool(match) and bool(match.group(2) or re.search(r"[.,%]", alt))


def facts_found(answer_text: str, q: Question) -> int:
    """How many of the question's key facts the answer holds (any spelling; a figure
    also in another language's spelling of the same value)."""
    text = _normalise(answer_text)
    folded = fold(answer_text)
    held = quantities(folded)

    def holds(alt: str) -> bool:
        if _normalise(alt) in text:
            return True
        return _is_quantity(fold(alt)) and bool(quantities(fold(alt)) & held)

    return sum(any(holds(alt) for alt in alts) for alts in q.key_facts)


def evaluate_question(assistant: Assistant, q: Question) -> QuestionResult:
    started = time.perf_counter()
    cleaned, lang = assistant.clean_question(q.question)
    vector, hits = assistant.retrieve(cleaned, 10)
    answer = assistant.answer_from(cleaned, lang, vector, hits)
    seconds = time.perf_counter() - started
    rank = source_rank(hits, q)
    facts = facts_found(answer.answer, q)
    source_language = document_language(q.sources[0].document) if len(q.sources) == 1 else ""
    return QuestionResult(
        id=q.id,
        language=q.language,
        answerable=q.answerable,
        rank=rank,
        found=answer.found,
        # A model's text is checked for its real language; the extractive answer
        # quotes sources by design, so its framing language is what counts.
        answer_language=(
            _text_language(answer.answer, q.language)
            if answer.generator != "extractive"
            else answer.language
        ),
        detected_language=detect_language(q.question),
        facts_found=facts,
        facts_total=len(q.key_facts),
        seconds=seconds,
        source_language=source_language,
        kind=q.kind,
        generator=answer.generator,
        citations=len(answer.citations),
        invalid_markers=len(answer.invalid_markers),
        unsupported_sentences=len(answer.unsupported),
        duplicated=answer.found and _duplicated(assistant, answer.answer),
        text_in_language=_share_in_language(answer.answer, q.language) if answer.found else None,
        facts_without_originals=facts_found(_without_originals(answer.answer), q),
        answer=answer.answer,
        split=q.split,
    )


def _without_originals(answer: str) -> str:
    return "\n".join(
        line for line in answer.splitlines() if not line.startswith(ORIGINAL_PREFIX)
    )


def answer_sentences(answer: str) -> list[str]:
    """The sentences an answer states: its "- " lines without their markers, or else its
    sentences; notes in parentheses and names or figures alone are left out."""
    lines = [line[2:] for line in answer.splitlines() if line.startswith("- ")]
    if not lines:
        lines = re.split(r"(?<=[.!?])\s+", answer)
    bare = [re.sub(r"\s+(?=[.!?,;:])", "", re.sub(r"\[\d+\]|\(.*?\)", "", line)).strip()
            for line in lines]
    return [b for b in bare if len(re.findall(r"[^\W\d_]{2,}", b)) >= 3]


def _share_in_language(answer: str, asked: str) -> float | None:
    sentences = answer_sentences(answer)
    if not sentences:
        return None
    return sum(detect_language(s, asked) == asked for s in sentences) / len(sentences)


def _text_language(answer: str, asked: str) -> str:
    """The language a model's answer is written in. An answer of a number or a
    name alone ("12 [1]", "Costa Rica [1]") is in every language."""
    bare = re.sub(r"\[\d+\]", "", answer)
    words = re.findall(r"[^\W\d_]{2,}", bare)
    if len(words) < 3:
        return asked
    return detect_language(bare)


def _percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def evaluate(
    assistant: Assistant, questions: Sequence[Question], split: str = "all"
) -> EvaluationReport:
    """The report over the questions of `split` ("dev", "test" or "all")."""
    # The first question also loads models; it is asked once before timing.
    if questions:
        evaluate_question(assistant, questions[0])
    results = [evaluate_question(assistant, q) for q in questions]
    return summarise(assistant, results, split)


def evaluate_all(
    assistant: Assistant, questions: Sequence[Question], splits: Sequence[str]
) -> list[EvaluationReport]:
    """One report per split, from one pass over the questions of those splits."""
    asked = [q for q in questions if "all" in splits or q.split in splits]
    if asked:
        evaluate_question(assistant, asked[0])
    results = [evaluate_question(assistant, q) for q in asked]
    return [summarise(assistant, results, split) for split in splits]


def summarise(
    assistant: Assistant, all_results: Sequence[QuestionResult], split: str = "all"
) -> EvaluationReport:
    results = [r for r in all_results if split == "all" or r.split == split]
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]

    def hit(r: QuestionResult, k: int) -> bool:
        return r.rank is not None and r.rank <= k

    def mean(values: Sequence[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    matrix: dict[str, dict[str, float | None]] = {}
    counts: dict[str, dict[str, int]] = {}
    for ql in SUPPORTED:
        matrix[ql], counts[ql] = {}, {}
        for sl in SUPPORTED:
            cell = [r for r in answerable if r.language == ql and r.source_language == sl]
            counts[ql][sl] = len(cell)
            matrix[ql][sl] = mean([hit(r, 5) for r in cell]) if cell else None
    latencies = [r.seconds * 1000 for r in results]
    settings = {
        k: v for k, v in vars(assistant.settings).items() if k not in {"data_dir", "corpus_dir"}
    }
    generated = [r for r in results if r.found and r.generator != "extractive"]
    broad = [r for r in answerable if r.kind == "broad" and r.facts_total]
    found = [r for r in results if r.found]
    model_used = assistant.settings.generator != "extractive"
    return EvaluationReport(
        generated_share=len(generated) / len(found) if found else 0.0,
        citation_validity=(
            mean([r.citations > 0 and r.invalid_markers == 0 for r in generated])
            if model_used
            else None
        ),
        answers_with_unsupported=(
            mean([r.unsupported_sentences > 0 for r in generated]) if model_used else None
        ),
        answers_with_invalid_markers=(
            mean([r.invalid_markers > 0 for r in generated]) if model_used else None
        ),
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        hit_at_1=mean([hit(r, 1) for r in answerable]),
        hit_at_5=mean([hit(r, 5) for r in answerable]),
        mrr_at_10=mean([1.0 / r.rank if r.rank else 0.0 for r in answerable]),
        matrix=matrix,
        matrix_counts=counts,
        unanswerable_accuracy=mean([not r.found for r in unanswerable]),
        answer_language_accuracy=mean([r.answer_language == r.language for r in results]),
        question_language_accuracy=mean([r.detected_language == r.language for r in results]),
        key_fact_recall=mean([r.facts_found / r.facts_total for r in answerable if r.facts_total]),
        false_not_found=mean([not r.found for r in answerable]),
        broad_recall=(
            mean([r.facts_found / r.facts_total for r in broad]) if broad else None
        ),
        duplicate_answers=sum(r.duplicated for r in results),
        text_in_language=_mean_or_none([r.text_in_language for r in results]),
        key_fact_recall_without_originals=mean(
            [r.facts_without_originals / r.facts_total for r in answerable if r.facts_total]
        ),
        split=split,
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        settings={k: str(v) for k, v in settings.items()},
        results=results,
    )


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def write_reports(report: EvaluationReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "evaluation.md", out_dir / "evaluation.json"
    md.write_text("# Evaluation\n\n" + report.to_markdown() + "\n", encoding="utf-8")
    js.write_text(report.to_json() + "\n", encoding="utf-8")
    return md, js
