"""In-process GGUF runtimes side by side, on the same prompts and model file.

    python bench/bench_runtimes.py MODEL.gguf [--threads N] [--runtimes llama-cpp-python,...]

Each runtime that is installed in this Python answers the same RAG prompts (system
prompt, five numbered passages and a question, as the assistant builds them; about
700-1,300 tokens), greedily, up to 300 tokens. Reported per runtime: load seconds, time
to the first token and to the full answer (median over the prompts), decode rate and
peak memory. Each runtime runs in its own process, so memory figures do not mix.

Runtimes (none is a dependency of the assistant; install the ones to compare):
  llama-cpp-python   pip install llama-cpp-python==0.3.36   (compiles llama.cpp)
  mistralrs          pip install mistralrs==0.9.5            (prebuilt)
  gpt4all            pip install gpt4all==2.8.2              (prebuilt, llama.cpp of 2024)
  llama-cpp-py-sync  pip install llama-cpp-py-sync           (prebuilt; needs glibc >= 2.38)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROMPTS = Path(__file__).resolve().parent / "data" / "rag_prompts.json"
RUNTIMES = ("llama-cpp-python", "mistralrs", "gpt4all", "llama-cpp-py-sync")
MAX_TOKENS = 300


def _llama_cpp_python(model: Path, threads: int) -> Any:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=4096, n_threads=threads,
                n_threads_batch=threads, verbose=False)

    def chat(messages: list[dict[str, str]]) -> Any:
        for part in llm.create_chat_completion(messages=messages, max_tokens=MAX_TOKENS,
                                               temperature=0.0, stream=True):
            yield part["choices"][0]["delta"].get("content") or ""

    return chat


def _llama_cpp_py_sync(model: Path, threads: int) -> Any:
    from llama_cpp_py_sync import Llama

    llm = Llama(str(model), n_ctx=4096, n_threads=threads, n_threads_batch=threads)

    def chat(messages: list[dict[str, str]]) -> Any:
        for part in llm.create_chat_completion(messages, max_tokens=MAX_TOKENS, temperature=0.0,
                                               top_k=1, repeat_penalty=1.0, stream=True):
            yield part["choices"][0]["delta"].get("content") or ""

    return chat


def _mistralrs(model: Path, threads: int) -> Any:
    import os

    os.environ.setdefault("RUST_LOG", "warn")
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    from mistralrs import ChatCompletionRequest, Runner, Which

    runner = Runner(which=Which.GGUF(quantized_model_id=str(model.parent),
                                     quantized_filename=model.name), token_source="none")

    def chat(messages: list[dict[str, str]]) -> Any:
        request = ChatCompletionRequest(model="local", messages=messages, max_tokens=MAX_TOKENS,
                                        temperature=0.0, stream=True)
        for chunk in runner.send_chat_completion_request(request):
            yield chunk.choices[0].delta.content or ""

    return chat


def _gpt4all(model: Path, threads: int) -> Any:
    from gpt4all import GPT4All

    llm = GPT4All(model_name=model.name, model_path=str(model.parent), allow_download=False,
                  device="cpu", n_threads=threads, n_ctx=4096)
    template = "<|im_start|>user\n{0}<|im_end|>\n<|im_start|>assistant\n"

    def chat(messages: list[dict[str, str]]) -> Any:
        system = "".join(m["content"] for m in messages if m["role"] == "system")
        user = "".join(m["content"] for m in messages if m["role"] == "user")
        with llm.chat_session(system_prompt=f"<|im_start|>system\n{system}<|im_end|>\n",
                              prompt_template=template):
            yield from llm.generate(user, max_tokens=MAX_TOKENS, temp=0.0, repeat_penalty=1.0,
                                    n_batch=128, streaming=True)

    return chat


LOADERS = {"llama-cpp-python": _llama_cpp_python, "mistralrs": _mistralrs,
           "gpt4all": _gpt4all, "llama-cpp-py-sync": _llama_cpp_py_sync}


def measure(runtime: str, model: Path, threads: int) -> dict[str, Any]:
    """One runtime, in this process."""
    prompts = json.loads(PROMPTS.read_text(encoding="utf-8"))
    started = time.perf_counter()
    try:
        chat = LOADERS[runtime](model, threads)
    except Exception as exc:  # noqa: BLE001 - reported as the runtime's result
        return {"runtime": runtime, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    load = time.perf_counter() - started
    firsts, totals, rates, answers = [], [], [], []
    for messages in prompts:
        t0 = time.perf_counter()
        first = None
        pieces = []
        for piece in chat(messages):
            if piece and first is None:
                first = time.perf_counter() - t0
            pieces.append(piece)
        total = time.perf_counter() - t0
        firsts.append(first or total)
        totals.append(total)
        text = "".join(pieces)
        answers.append(text[:160])
        if first is not None and total > first:
            rates.append(len([p for p in pieces if p]) / (total - first))
    return {
        "runtime": runtime,
        "threads": threads,
        "load_s": round(load, 2),
        "first_token_median_s": round(statistics.median(firsts), 2),
        "answer_median_s": round(statistics.median(totals), 2),
        "decode_pieces_per_s": round(statistics.median(rates), 1) if rates else None,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "answers": answers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.model, args.threads)))
        return 0
    results = []
    for runtime in args.runtimes.split(","):
        done = subprocess.run(
            [sys.executable, __file__, str(args.model), "--threads", str(args.threads),
             "--one", runtime], capture_output=True, text=True, check=False,
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        result = json.loads(lines[-1]) if lines else {
            "runtime": runtime, "error": (done.stderr.strip().splitlines() or ["?"])[-1][:200]}
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
