"""Cross-lingual word links learnt from the indexed documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.bridge import TermBridge
from assistant.lexical import LexicalDoc


class WordVectors:
    """Embeddings that place given words at given points (the rest at random)."""

    def __init__(self, points: dict[str, list[float]]) -> None:
        self.points = points
        self.calls = 0
        self.rng = np.random.default_rng(0)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        out = []
        for t in texts:
            v = np.asarray(self.points.get(t) or self.rng.normal(size=8).tolist(), float)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _axis(i: int, noise: float = 0.0) -> list[float]:
    v = np.zeros(8)
    v[i] = 1.0
    v[(i + 1) % 8] = noise
    return v.tolist()


POINTS = {
    "aanbevelingen": _axis(0), "recomendaciones": _axis(0, 0.1), "recommendations": _axis(0, 0.2),
    "onderwijs": _axis(1), "educacion": _axis(1, 0.1), "education": _axis(1, 0.15),
    "kopgroep": _axis(2), "pioneros": _axis(2, 0.2), "pioneers": _axis(2, 0.25),
    "begroting": _axis(3), "presupuesto": _axis(3, 0.1), "budget": _axis(3, 0.1),
}
DOCS = {
    "nl": "Aanbevelingen over onderwijs. De kopgroep en de begroting.",
    "es": "Recomendaciones sobre educación. Los pioneros y el presupuesto.",
    "en": "Recommendations on education. The pioneers and the budget.",
}


def _bridge(tmp_path: Path, embedder: WordVectors, threshold: float = 0.0) -> TermBridge:
    bridge = TermBridge(embedder, threshold, tmp_path / "vectors.npz")
    for lang, text in DOCS.items():
        bridge.add(lang, [LexicalDoc(f"{lang}-1", text, lang)])
    return bridge


def test_words_link_to_their_mutual_nearest_neighbours(tmp_path: Path) -> None:
    bridge = _bridge(tmp_path, WordVectors(POINTS))
    links = bridge.links("Welke aanbevelingen over onderwijs?", "nl")
    assert links["aanbeveel"] == {"es": "recomend", "en": "recommend"}
    assert links["onderwijs"]["es"] == "educ"
    assert "recomend" in bridge.expansions("aanbevelingen", "nl", 0.5)


def test_a_high_threshold_links_nothing(tmp_path: Path) -> None:
    bridge = _bridge(tmp_path, WordVectors(POINTS), threshold=5.0)
    assert bridge.links("aanbevelingen", "nl") == {}


def test_vectors_are_embedded_once_and_kept_across_restarts(tmp_path: Path) -> None:
    first = WordVectors(POINTS)
    bridge = _bridge(tmp_path, first)
    bridge.prepare()
    assert first.calls > 0 and (tmp_path / "vectors.npz").exists()
    again = WordVectors(POINTS)
    restarted = _bridge(tmp_path, again)
    restarted.prepare()
    assert again.calls == 0
    assert restarted.links("aanbevelingen", "nl") == bridge.links("aanbevelingen", "nl")


def test_removed_documents_leave_the_vocabulary(tmp_path: Path) -> None:
    bridge = _bridge(tmp_path, WordVectors(POINTS))
    bridge.remove("es")
    assert "es" not in bridge.links("aanbevelingen", "nl").get("aanbeveel", {})
    assert bridge.size().get("es", 0) == 0


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "vectors.npz").write_bytes(b"not a cache")
    bridge = _bridge(tmp_path, WordVectors(POINTS))
    assert bridge.links("aanbevelingen", "nl")["aanbeveel"]["en"] == "recommend"


@pytest.mark.slow
def test_links_learnt_on_the_sample_corpus_agree_with_a_hand_made_list(corpus_assistant) -> None:  # noqa: ANN001
    """The bridge against the word groups once written by hand for the sample corpus
    (now only a fixture): the share of groups whose Dutch word links to its Spanish or
    English counterpart, and the share of links that are right."""
    from tests.fixtures.ilia_terms import CONCEPTS

    bridge = corpus_assistant.retriever.bridge
    corpus_assistant.retriever.warm_up()
    from assistant.lexical import analyse

    right = wrong = asked = 0
    for groups in CONCEPTS.values():
        for word in groups.get("nl", ()):
            if " " in word:
                continue
            links = bridge.links(word, "nl")
            if not links:
                asked += 1
                continue
            asked += 1
            for lang, partner in next(iter(links.values())).items():
                expected = {t for w in groups.get(lang, ()) for t in analyse(w, lang)}
                if partner in expected:
                    right += 1
                else:
                    wrong += 1
    precision = right / max(1, right + wrong)
    print(f"\nbridge vs the hand-made groups: {right} right, {wrong} wrong links "
          f"over {asked} Dutch words (precision {precision:.2f})")
    assert right >= 10 and precision >= 0.3


def test_words_no_document_holds_are_unknown(tmp_path: Path) -> None:
    bridge = _bridge(tmp_path, WordVectors(POINTS))
    assert bridge.unknown("onderwijs en kwantumcomputers", "nl") == ["kwantumcomputers"]
    # Known in another language's documents: not unknown.
    assert bridge.unknown("What about the presupuesto?", "en") == []
