"""Any sentence-transformers model, by hub name or local path.

Loading is split in two. `check_available()` is cheap and bounded in time: it
checks the folder, or the hub cache, or (when the hub may be used) asks the hub
with a short timeout. Only then does the first embedding import
sentence-transformers (~10 s) and load the weights. Left to itself, the hub
client retries an unreachable hub for over a minute before failing; the
probe turns that into a clear error within seconds.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.embeddings import EmbedderLoadError, IdentifiedEmbeddings
from assistant.embeddings.models import ModelInfo, lookup_model

log = logging.getLogger(__name__)

# Per request phase (connect, read); the whole probe is cut off one second later.
HUB_TIMEOUT_S = 4.0
# Device strings torch accepts that make sense for inference; checked early so a
# typo fails at start-up instead of after the 10 s import.
_DEVICE = re.compile(r"auto|cpu|mps|hpu|(cuda|xpu|npu)(:\d+)?")
# A folder holds a model when it has either of these (sentence-transformers
# layout, or a plain transformers model that gets mean pooling).
_MODEL_FILES = ("modules.json", "config.json")
_LOCAL_HINT = "pass a local model folder instead: --embedder st:/path/to/model"


def resolve_device(device: str) -> str:
    """Turn "auto" into "cuda" when torch sees a GPU, else "cpu"; others pass through."""
    spec = device.strip().lower()
    if spec != "auto":
        return spec
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def looks_like_path(model: str) -> bool:
    """True for strings that can only be a folder; hub ids are `name` or `org/name`."""
    text = model.strip()
    return (
        text.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or text in {".", ".."}
        or "\\" in text
        or text.rstrip("/").count("/") > 1
        or re.match(r"[A-Za-z]:[\\/]", text) is not None
    )


@dataclass(frozen=True)
class LoadPlan:
    """What `SentenceTransformer` receives, decided by `check_available()`."""

    # A hub name only when the hub answered. Cached models load from their
    # snapshot folder: by name, even with `local_files_only`, the hub client
    # still makes a request of its own (user-agent detection) on first use.
    source: str
    local_files_only: bool
    # Why the cache is used although the hub was allowed (shown in logs).
    fallback_reason: str = ""


def _hub_model_info(name: str, timeout: float) -> None:
    """One metadata request to the hub; raises when it cannot answer."""
    from huggingface_hub import model_info

    model_info(name, timeout=timeout)


def _probe_hub(name: str, timeout: float) -> Exception | None:
    """None when the hub knows `name`, else the reason, within `timeout` + 1 s.

    The HTTP timeout does not cover name resolution, and a dropped connection
    may wait once per phase, so the request runs in a daemon thread that is
    abandoned at the deadline.
    """
    outcome: list[Exception | None] = []

    def run() -> None:
        try:
            _hub_model_info(name, timeout)
            outcome.append(None)
        except Exception as exc:  # handed to the caller, which explains it
            outcome.append(exc)

    worker = threading.Thread(target=run, name=f"hub-probe {name}", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)
    if not outcome:
        return TimeoutError(f"no answer within {timeout + 1.0:.0f} s")
    return outcome[0]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class SentenceTransformerEmbeddings(IdentifiedEmbeddings):
    """Wraps `sentence_transformers.SentenceTransformer`; imported on first use (~10 s).

    Prefixes: a non-empty `query_prefix` / `passage_prefix` wins; otherwise the
    model's entry in `models.KNOWN_MODELS` (matched by hub name or folder name);
    otherwise None, which lets sentence-transformers apply the prompts the model
    itself declares (most declare none).

    `normalize=False` returns the raw vectors, unless the model's own pipeline
    ends in a Normalize module (e.g. all-MiniLM-L6-v2), which always gives unit
    length.
    """

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        batch_size: int = 32,
        query_prefix: str = "",
        passage_prefix: str = "",
        normalize: bool = True,
        hub_offline: bool = False,
        hub_timeout: float = HUB_TIMEOUT_S,
        cache_dir: Path | None = None,
    ) -> None:
        model = model.strip()
        if not model:
            raise ValueError("a sentence-transformers model name or path is required")
        if batch_size < 1:
            raise ValueError(f"st_batch_size must be at least 1, not {batch_size}")
        if not _DEVICE.fullmatch(device.strip().lower()):
            raise ValueError(
                f"unknown device {device!r}: use auto, cpu, cuda, cuda:N or mps (st_device)"
            )
        self.model_name = model
        self.device = device.strip().lower()
        self.batch_size = batch_size
        self.normalize = normalize
        self.hub_offline = hub_offline
        self.hub_timeout = hub_timeout
        # None means the hub client's default cache (it honours HF_HOME / HF_HUB_CACHE).
        self.cache_dir = cache_dir
        path = Path(model).expanduser()
        self.is_local = path.exists() or looks_like_path(model)
        self.path: Path | None = path if self.is_local else None
        # An absolute path, so that a relative `models/NAME` is read as a folder
        # name and not as the hub id of organisation "models".
        self.info: ModelInfo | None = lookup_model(
            str(path.resolve()) if self.is_local else model
        )
        self.query_prefix: str | None = query_prefix or (
            self.info.query_prefix if self.info else None
        )
        self.passage_prefix: str | None = passage_prefix or (
            self.info.passage_prefix if self.info else None
        )
        # Set once the model is loaded: the device actually used.
        self.resolved_device: str | None = None
        self._plan: LoadPlan | None = None
        self._model: Any = None
        # Re-entrant: loading happens inside `_encode`, which already holds it.
        self._lock = threading.RLock()

    @property
    def identity(self) -> str:
        # A local path is named by its folder, so moving the model keeps the index valid.
        name = self.path.name if self.path is not None else self.model_name
        identity = f"sentence-transformers/{name}"
        # Stored vectors depend on the passage prefix (queries are embedded anew
        # each time), so a non-default one must not match an index built without it.
        default = self.info.passage_prefix if self.info else None
        if self.passage_prefix != default:
            identity += f" (passage prefix {self.passage_prefix!r})"
        return identity

    # -- loading ---------------------------------------------------------------

    def check_available(self) -> LoadPlan:
        """Make sure the model can be loaded, without loading it; raise `EmbedderLoadError`.

        Local folders: must exist and hold a model. Hub names with `hub_offline`:
        must be in the cache. Otherwise the hub is asked (bounded by
        `hub_timeout`); when it cannot answer, a cached copy is used, and
        without one the error says how to get the model.
        """
        with self._lock:
            if self._plan is None:
                self._plan = self._local_plan() if self.is_local else self._hub_plan()
            return self._plan

    def _local_plan(self) -> LoadPlan:
        assert self.path is not None
        path = self.path
        if not path.is_dir():
            state = "is not a folder" if path.exists() else "does not exist"
            raise EmbedderLoadError(
                f"embedding model folder '{path}' {state}. Give the folder that holds "
                f"the model's {' or '.join(_MODEL_FILES)}: --embedder st:/path/to/model"
            )
        if not any((path / f).is_file() for f in _MODEL_FILES):
            raise EmbedderLoadError(
                f"'{path}' holds no model ({' or '.join(_MODEL_FILES)} missing). In a hub "
                "cache, point at models--ORG--NAME/snapshots/<commit>/; or download it "
                "with `hf download NAME --local-dir /path/to/model`."
            )
        # A folder is self-contained: never look anything up on the hub for it.
        return LoadPlan(str(path), local_files_only=True)

    def _cache_location(self) -> str:
        if self.cache_dir is not None:
            return str(self.cache_dir)
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)

    def _cached_snapshot(self) -> str | None:
        """The cached snapshot folder of the model, or None; never touches the network."""
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError

        try:
            return str(
                snapshot_download(
                    self.model_name, cache_dir=self.cache_dir, local_files_only=True
                )
            )
        except HFValidationError as exc:
            raise EmbedderLoadError(
                f"{self.model_name!r} is neither an existing folder nor a valid hub model "
                f"name (ORG/NAME): {exc}"
            ) from exc
        except Exception:  # not cached, or a broken cache entry: both mean "download"
            return None

    def _how_to_get_it(self) -> str:
        name = self.model_name
        return (
            f"To fix: on a machine with hub access run `hf download {name}` "
            f"(older huggingface_hub: `huggingface-cli download {name}`) and copy its "
            f"cache folder models--{name.replace('/', '--')} into "
            f"{self._cache_location()} on this machine; or download it into a folder "
            f"(`hf download {name} --local-dir /path/to/model`), copy that, and "
            f"{_LOCAL_HINT}."
        )

    def _hub_plan(self) -> LoadPlan:
        name = self.model_name
        cached = self._cached_snapshot()
        if self.hub_offline:
            if cached is None:
                raise EmbedderLoadError(
                    f"embedding model '{name}' is not in the local model cache "
                    f"({self._cache_location()}) and hub access is off (hub_offline, "
                    f"ASSISTANT_HUB_OFFLINE=1). {self._how_to_get_it()} If this machine "
                    "can reach the hub, set ASSISTANT_HUB_OFFLINE=0 to download it."
                )
            return LoadPlan(cached, local_files_only=True)

        failure = _probe_hub(name, self.hub_timeout)
        if failure is None:
            return LoadPlan(name, local_files_only=False)
        from huggingface_hub.errors import RepositoryNotFoundError

        if isinstance(failure, RepositoryNotFoundError):
            problem = (
                f"the model hub has no public model '{name}' (check the spelling; "
                "private or gated models need `hf auth login`)"
            )
            network_hint = ""
        else:
            problem = f"the model hub could not be reached ({_describe(failure)})"
            network_hint = " Behind a proxy, check the network settings."
        if cached is not None:
            reason = f"{problem}; using the cached copy"
            log.warning("embedding model '%s': %s", name, reason)
            return LoadPlan(cached, local_files_only=True, fallback_reason=reason)
        raise EmbedderLoadError(
            f"cannot load embedding model '{name}': {problem}, and it is not in the local "
            f"model cache ({self._cache_location()}). {self._how_to_get_it()}{network_hint}"
        )

    def _engine(self) -> Any:
        with self._lock:
            if self._model is None:
                plan = self.check_available()
                device = resolve_device(self.device)
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(
                        plan.source,
                        device=device,
                        local_files_only=plan.local_files_only,
                        cache_folder=str(self.cache_dir) if self.cache_dir else None,
                    )
                except Exception as exc:
                    raise EmbedderLoadError(
                        f"cannot load embedding model '{self.model_name}' on device "
                        f"'{device}': {_describe(exc)}"
                    ) from exc
                self.resolved_device = device
            return self._model

    # -- embedding -------------------------------------------------------------

    def _encode(self, texts: list[str], *, query: bool) -> list[list[float]]:
        with self._lock:
            engine = self._engine()
            # encode_query / encode_document also pick the right branch of
            # models with separate query and document modules.
            encode = engine.encode_query if query else engine.encode_document
            vectors = encode(
                texts,
                # An explicit prompt (even "") replaces any the model declares,
                # so a prefix is never applied twice.
                prompt=self.query_prefix if query else self.passage_prefix,
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(list(texts), query=False)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], query=True)[0]
