"""Fit the retrieval weights and the "not found" thresholds on the dev questions.

Only questions marked `split: dev` are used; the test questions stay unseen
until `assistant eval` reports them. For each sample corpus (a folder with
its documents and questions.yaml) the documents are indexed once; then:

1. retrieval: the fusion weights (dense, lexical, cross-lingual words) that give
   the best hit@5 over the dev questions of all corpora together;
2. answering: each dev question's evidence is measured once with the gates
   open (the best passage's similarity, the best sentence's, the share of the
   question's words one passage holds) together with the key facts its answer
   would hold; the thresholds are then chosen to answer as many answerable
   questions as possible (key facts) while at least 90 % of the unanswerable
   ones are still refused.

Usage: python bench/fit_thresholds.py [CORPUS_DIR ...] [--index DIR ...]
(default: corpus/ and corpus/heat-health-2024/; --index reuses a built index
per corpus, in the same order). Results: bench/results/fit.json.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    Question,
    facts_found,
    load_questions,
    source_rank,
)
from assistant.extractive import passes_gates  # noqa: E402

UNANSWERABLE_FLOOR = 0.9
RETRIEVAL_GRID = {
    "dense_weight": [1.0],
    "lexical_weight": [0.3, 0.5, 0.8],
    "bridge_weight": [0.0, 0.5, 1.0],
}


@dataclass
class Measured:
    question: Question
    rank: int | None
    top_score: float = -1.0
    sentence_similarity: float = -1.0
    coverage: float = -1.0
    titled: bool = False  # a broad question whose topic a section title names
    topic_held: bool = False  # a broad question whose topic's words one passage holds
    typed_named: bool = False  # one sentence names what the question names, with the kind asked
    facts: float = 0.0  # share of key facts in the answer given with open gates
    possible: bool = False  # evidence exists at all (names and numbers met)


def index(folder: Path, data_dir: Path) -> Settings:
    from assistant.cli import run_ingest
    from ingest.loaders import SUPPORTED_SUFFIXES

    settings = Settings.load({"data_dir": data_dir}, environ={})
    docs = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    report = run_ingest(settings, docs, False, progress=False)
    if not report.ok:
        raise SystemExit(report.summary())
    return settings


def fit_retrieval(assistants: list[Assistant], dev: list[list[Question]]) -> dict[str, float]:
    """The weights with the best dev hit@5; ties go to the better MRR@10."""
    best: tuple[tuple[float, float], dict[str, float]] | None = None
    keys = list(RETRIEVAL_GRID)
    for values in itertools.product(*(RETRIEVAL_GRID[k] for k in keys)):
        changes = dict(zip(keys, values, strict=True))
        hits5 = total = 0
        reciprocal = 0.0
        for assistant, questions in zip(assistants, dev, strict=True):
            variant = assistant.with_settings(**changes)
            for q in questions:
                if not q.answerable:
                    continue
                _, hits = variant.retrieve(q.question, 10)
                rank = source_rank(hits, q)
                hits5 += rank is not None and rank <= 5
                reciprocal += 1.0 / rank if rank else 0.0
                total += 1
        score = (round(hits5 / max(1, total), 4), round(reciprocal / max(1, total), 4))
        print(f"  retrieval {changes}: dev hit@5 {score[0]:.3f}, MRR@10 {score[1]:.3f}",
              flush=True)
        if best is None or score > best[0]:
            best = (score, changes)
    assert best is not None
    return {**best[1], "dev_hit_at_5": best[0][0], "dev_mrr_at_10": best[0][1]}


def measure(assistant: Assistant, questions: list[Question]) -> list[Measured]:
    answerer = assistant._extractive()  # noqa: SLF001 - the fit needs the gates open
    out = []
    for q in questions:
        cleaned, lang = assistant.clean_question(q.question)
        vector, hits = assistant.retrieve(cleaned, 10)
        m = Measured(q, source_rank(hits, q))
        evidence = answerer.evidence(cleaned, lang, vector, hits[: assistant.settings.top_k])
        if evidence is not None:
            m.possible = True
            m.top_score = evidence.top_score
            m.sentence_similarity = evidence.sentence_similarity
            m.coverage = evidence.coverage
            m.titled = evidence.titled
            m.topic_held = evidence.topic_held
            m.typed_named = evidence.typed_named
            m.facts = facts_found(answerer.respond(evidence).answer, q) / len(q.key_facts or [1])
        out.append(m)
    return out


def fit_gates(measured: list[Measured]) -> dict[str, float]:
    answerable = [m for m in measured if m.question.answerable]
    unanswerable = [m for m in measured if not m.question.answerable]
    grid_relevance = [round(0.78 + 0.005 * i, 3) for i in range(15)]
    grid_sentence = [round(0.80 + 0.005 * i, 3) for i in range(21)]
    grid_coverage = [0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
    results = []
    for a, b, c in itertools.product(grid_relevance, grid_sentence, grid_coverage):
        def passes(m: Measured, a: float = a, b: float = b, c: float = c) -> bool:
            return m.possible and passes_gates(m, a, b, c)

        refused = sum(not passes(m) for m in unanswerable) / max(1, len(unanswerable))
        recall = sum(m.facts for m in answerable if passes(m)) / max(1, len(answerable))
        answered = sum(passes(m) for m in answerable) / max(1, len(answerable))
        results.append((refused >= UNANSWERABLE_FLOOR, recall, refused, answered, a, b, c))
    # Meet the floor first, then the most key facts, then the most refusals. Many
    # thresholds tie on so few questions: take the middle of the tied ones in each
    # dimension, which leaves a margin on both sides for unseen questions.
    top = max(results, key=lambda r: (r[0], round(r[1], 4), r[2]))
    key = (top[0], round(top[1], 4), top[2])
    tied = [r for r in results if (r[0], round(r[1], 4), r[2]) == key]
    a = statistics.median_low(sorted({r[4] for r in tied}))
    b = statistics.median_low(sorted({r[5] for r in tied if r[4] == a}))
    c = statistics.median_low(sorted({r[6] for r in tied if r[4] == a and r[5] == b}))
    best = next(r for r in tied if (r[4], r[5], r[6]) == (a, b, c))
    return {
        "min_relevance": best[4], "min_sentence_relevance": best[5],
        "min_term_coverage": best[6], "dev_key_fact_recall": round(best[1], 3),
        "dev_unanswerable_refused": round(best[2], 3), "dev_answered": round(best[3], 3),
        "tied_configurations": len(tied),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path,
                        default=[ROOT / "corpus", ROOT / "corpus" / "heat-health-2024"])
    parser.add_argument("--index", nargs="*", type=Path, default=[])
    parser.add_argument("--skip-retrieval", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fit-") as tmp:
        assistants, dev = [], []
        for i, folder in enumerate(args.corpora):
            if i < len(args.index):
                settings = Settings.load({"data_dir": args.index[i]}, environ={})
            else:
                settings = index(folder, Path(tmp) / str(i))
            assistant = Assistant(settings)
            # Every configuration asks the same questions: embed each once.
            embed = functools.lru_cache(maxsize=None)(assistant.embedder.embed_query)
            assistant.embedder.embed_query = embed  # type: ignore[method-assign]
            assistants.append(assistant)
            dev.append([q for q in load_questions(folder / "questions.yaml") if q.split == "dev"])
        print(f"dev questions: {[len(d) for d in dev]}", flush=True)
        fitted: dict[str, float] = {}
        if not args.skip_retrieval:
            fitted.update(fit_retrieval(assistants, dev))
            changes = {k: v for k, v in fitted.items() if k in RETRIEVAL_GRID}
            assistants = [a.with_settings(**changes) for a in assistants]
        measured = [m for a, d in zip(assistants, dev, strict=True) for m in measure(a, d)]
        fitted.update(fit_gates(measured))
        (ROOT / "bench" / "results" / "fit_measured.json").write_text(json.dumps(
            [{"id": m.question.id, "answerable": m.question.answerable, "rank": m.rank,
              "top_score": m.top_score, "sentence_similarity": m.sentence_similarity,
              "coverage": m.coverage, "titled": m.titled, "topic_held": m.topic_held,
              "facts": m.facts, "possible": m.possible}
             for m in measured], indent=1) + "\n", encoding="utf-8")
    print(json.dumps(fitted, indent=2))
    out = ROOT / "bench" / "results" / "fit.json"
    out.write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
