"""Decoding throughput of llama.cpp with several sequences in one batch.

    python bench/bench_batched_decode.py MODEL.gguf [--sequences 1,6] [--threads 2]

The translate style asks the model for one translation per quoted line. Decoding those
lines side by side, as sequences of one llama.cpp batch, would pay only if a batch of N
sequences decoded close to N times the tokens per second of one. This measures it: each
sequence gets the same short translation prompt, then `--steps` greedy tokens are
decoded for all sequences together. Reported per sequence count: prefill seconds,
decode seconds, tokens per second in all and decoding steps per second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

PROMPT = (
    "<|im_start|>user\nTranslate into Dutch: The region receives only 1.12% of global "
    "investment in artificial intelligence, although it produces 6.6% of world GDP."
    "<|im_end|>\n<|im_start|>assistant\n"
)


def measure(model_path: str, sequences: int, threads: int, steps: int) -> dict[str, float]:
    import llama_cpp as lc

    lc.llama_backend_init()
    model = lc.llama_model_load_from_file(model_path.encode(), lc.llama_model_default_params())
    params = lc.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_seq_max = 4096, 512, sequences
    params.n_threads = params.n_threads_batch = threads
    ctx = lc.llama_init_from_model(model, params)
    vocab = lc.llama_model_get_vocab(model)
    n_vocab = lc.llama_vocab_n_tokens(vocab)
    tokens = (lc.llama_token * 512)()
    text = PROMPT.encode()
    n = lc.llama_tokenize(vocab, text, len(text), tokens, 512, True, True)
    batch = lc.llama_batch_init(512, 0, sequences)

    def add(token: int, pos: int, seq: int, logits: bool) -> None:
        i = batch.n_tokens
        batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
        batch.seq_id[i][0], batch.logits[i] = seq, logits
        batch.n_tokens += 1

    try:
        start = time.perf_counter()
        batch.n_tokens = 0
        for seq in range(sequences):
            for j in range(n):
                add(tokens[j], j, seq, j == n - 1)
        if lc.llama_decode(ctx, batch) != 0:
            raise RuntimeError("prefill failed")
        prefilled = time.perf_counter()
        last = [(seq + 1) * n - 1 for seq in range(sequences)]
        for step in range(steps):
            chosen = [
                int(np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, last[seq]),
                                          shape=(n_vocab,)).argmax())
                for seq in range(sequences)
            ]
            batch.n_tokens = 0
            for seq, token in enumerate(chosen):
                add(token, n + step, seq, True)
                last[seq] = seq
            if lc.llama_decode(ctx, batch) != 0:
                raise RuntimeError("decode failed")
        done = time.perf_counter()
    finally:
        lc.llama_batch_free(batch)
        lc.llama_free(ctx)
        lc.llama_model_free(model)
    decode = done - prefilled
    return {"sequences": sequences, "prompt_tokens": n, "prefill_s": prefilled - start,
            "decode_s": decode, "tokens_per_s": sequences * steps / decode,
            "steps_per_s": steps / decode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a GGUF file with a ChatML template (Qwen2.5)")
    parser.add_argument("--sequences", default="1,6", help="comma-separated counts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    for count in (int(c) for c in args.sequences.split(",")):
        r = measure(args.model, count, args.threads, args.steps)
        print(f"{r['sequences']} sequence(s), {r['prompt_tokens']}-token prompt: prefill "
              f"{r['prefill_s']:.2f} s, {args.steps} steps in {r['decode_s']:.2f} s, "
              f"{r['tokens_per_s']:.1f} tokens/s in all, {r['steps_per_s']:.1f} steps/s")


if __name__ == "__main__":
    main()
