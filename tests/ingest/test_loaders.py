from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.loaders import SUPPORTED_SUFFIXES, LoadedDocument, Page, load_document

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def full_text(doc: LoadedDocument) -> str:
    return "\n".join(page.text for page in doc.pages)


# --- good files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "fmt", "page_count", "expected", "absent"),
    [
        pytest.param(
            "good.pdf",
            "Guía de instalación del sistema",
            "pdf",
            2,
            ["1. Introducción", "cómo instalar la aplicación", "¿Qué necesita?", "señor"],
            [],
            id="pdf",
        ),
        pytest.param(
            "empty-password.pdf",
            "Guía de instalación del sistema",
            "pdf",
            2,
            ["1. Introducción", "2. Configuración avanzada", "período de garantía"],
            [],
            id="pdf-empty-user-password",
        ),
        pytest.param(
            "blank-page.pdf",
            "blank-page",  # no /Title metadata: the file stem
            "pdf",
            3,
            ["beëindiging", "coördinatie van ideeën"],
            [],
            id="pdf-with-blank-page",
        ),
        pytest.param(
            "sample.md",
            "Handleiding voor nieuwe medewerkers",
            "markdown",
            1,
            [
                "# Handleiding voor nieuwe medewerkers",
                "## Eerste dag",
                "| HR | Anke de Vries | 020 123 4567 |",
                "coördinatieafspraken",
                "Joël",
            ],
            [],
            id="markdown",
        ),
        pytest.param(
            "sample.txt",
            "sample",
            "text",
            1,
            ["Na de beëindiging van de overeenkomst", "België", "coördinator"],
            [],
            id="text-latin1",
        ),
        pytest.param(
            "sample.html",
            "Preguntas frecuentes",
            "html",
            1,
            [
                "# Preguntas frecuentes sobre el servicio",
                "## Facturación",
                "Aquí encontrará respuestas a las preguntas más habituales.",
                "La factura se envía cada mes.\nEl pago vence a los 30 días.",
                "- Pago con tarjeta\n- Transferencia bancaria",
                "| Plan | Precio |\n| --- | --- |\n| Básico | 10 € |\n| Avanzado | 25 € |",
            ],
            ["textoDelScript", "otro script", "font-family", "comentario", "Active JavaScript"],
            id="html",
        ),
        pytest.param(
            "sample.docx",
            "Jaarverslag 2024",
            "docx",
            1,
            [
                "# Samenvatting",
                "## Cijfers per regio",
                "De financiële resultaten",
                "| Regio | Omzet |\n| --- | --- |\n| Noord | 1,2 mln |\n| Zuid | 0,9 mln |",
                "- Eerste aandachtspunt",
            ],
            [],
            id="docx",
        ),
    ],
)
def test_good_files_load(
    name: str,
    title: str,
    fmt: str,
    page_count: int,
    expected: list[str],
    absent: list[str],
) -> None:
    path = FIXTURES / name
    doc = load_document(path)

    assert doc.path == path
    assert doc.title == title
    assert doc.format == fmt
    assert [page.number for page in doc.pages] == list(range(1, page_count + 1))
    assert doc.content_hash == sha256_of(path)
    text = full_text(doc)
    for fragment in expected:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


def test_pdf_pages_keep_their_own_text() -> None:
    doc = load_document(FIXTURES / "good.pdf")

    assert doc.pages[0].text.startswith("1. Introducción\n")
    assert "2. Configuración avanzada" not in doc.pages[0].text
    assert doc.pages[1].text.startswith("2. Configuración avanzada\n")


def test_pdf_page_without_text_is_kept_empty() -> None:
    doc = load_document(FIXTURES / "blank-page.pdf")

    assert doc.pages[1] == Page(number=2, text="")
    assert doc.pages[2].text.startswith("Derde pagina")


def test_docx_keeps_tables_in_body_order() -> None:
    text = load_document(FIXTURES / "sample.docx").pages[0].text

    assert text.index("## Cijfers per regio") < text.index("| Regio | Omzet |")
    assert text.index("| Zuid | 0,9 mln |") < text.index("Na de tabel volgt")


def test_text_is_nfc_normalised() -> None:
    for name in ("good.pdf", "sample.md", "sample.txt", "sample.html", "sample.docx"):
        text = full_text(load_document(FIXTURES / name))
        # A decomposed 'e' + combining diaeresis/acute would break exact-match search.
        assert "\u0301" not in text
        assert "\u0308" not in text


def test_documents_are_immutable() -> None:
    doc = load_document(FIXTURES / "sample.md")

    with pytest.raises(AttributeError):
        doc.title = "other"  # type: ignore[misc]


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "NOTES.MD"
    path.write_bytes((FIXTURES / "sample.md").read_bytes())

    doc = load_document(path)

    assert doc.format == "markdown"
    assert doc.title == "Handleiding voor nieuwe medewerkers"


def test_supported_suffixes() -> None:
    assert {".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx"} == SUPPORTED_SUFFIXES


# --- bad files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param(
            "unknown.xyz",
            "unsupported file type '.xyz' "
            "(supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt)",
            id="unsupported",
        ),
        pytest.param("corrupt.pdf", "not a readable PDF (", id="corrupt-pdf"),
        pytest.param("notapdf.pdf", "not a readable PDF (", id="not-a-pdf"),
        pytest.param("encrypted.pdf", "the PDF is encrypted with a password", id="encrypted"),
        pytest.param("empty.pdf", "the file is empty", id="empty-pdf"),
        pytest.param(
            "image-only.pdf",
            "no extractable text: the PDF looks scanned or image-only (OCR it first)",
            id="image-only",
        ),
        pytest.param("zero-pages.pdf", "the PDF has no pages", id="zero-pages"),
        pytest.param("corrupt.docx", "not a readable Word document (", id="corrupt-docx"),
        pytest.param("empty.txt", "the file is empty", id="empty-txt"),
    ],
)
def test_bad_files_raise_ingest_error(name: str, reason: str) -> None:
    path = FIXTURES / name

    with pytest.raises(IngestError) as caught:
        load_document(path)

    assert str(caught.value).startswith(f"{name}: ")
    assert reason in str(caught.value)
    assert caught.value.path == path
    assert reason in caught.value.reason


def write_bad_file(path: Path, content: bytes | None) -> None:
    """Write `content` to `path`; with None, the broken file its name stands for."""
    if content is not None:
        path.write_bytes(content)
    elif path.name == "truncated.pdf":
        good = (FIXTURES / "good.pdf").read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif path.name == "zip.docx":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "a zip archive, but not a Word document")
    elif path.name == "empty-body.docx":
        import docx

        docx.Document().save(str(path))
    else:
        raise ValueError(f"no bad file is built for {path.name}")


@pytest.mark.parametrize(
    ("name", "content", "reason", "code"),
    [
        ("blank.md", b"  \n\t\n\r\n", "the file is empty", "empty_file"),
        ("blank.txt", b"\xef\xbb\xbf   \n", "the file is empty", "empty_file"),
        (
            "binary.txt",
            b"PK\x03\x04\x00\x00\x00\x00\x14\x00binary",
            "not a text file",
            "binary_file",
        ),
        (
            "only-script.html",
            b"<html><script>x = 1</script></html>",
            "no text found in the HTML",
            "no_text_html",
        ),
        ("README", b"text", "unsupported file type '(no extension)'", "no_suffix"),
        ("truncated.pdf", None, "not a readable PDF (", "unreadable_pdf"),
        ("zip.docx", None, "not a readable Word document (", "unreadable_docx"),
        ("empty-body.docx", None, "the file is empty", "empty_file"),
    ],
)
def test_more_bad_files(
    tmp_path: Path, name: str, content: bytes | None, reason: str, code: str
) -> None:
    path = tmp_path / name
    write_bad_file(path, content)

    with pytest.raises(IngestError, match=rf"^{name}: ") as caught:
        load_document(path)

    assert reason in caught.value.reason
    assert caught.value.code == code


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"^missing\.pdf: file not found$"):
        load_document(tmp_path / "missing.pdf")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "reports.pdf"
    folder.mkdir()

    with pytest.raises(IngestError, match=r"^reports\.pdf: is a directory"):
        load_document(folder)


@pytest.mark.parametrize(
    ("error", "reason", "code", "params"),
    [
        (PermissionError(13, "Permission denied"), "permission denied", "permission_denied", {}),
        (
            OSError(5, "Input/output error"),
            "cannot read the file (Input/output error)",
            "read_error",
            {"detail": "Input/output error"},
        ),
    ],
)
def test_unreadable_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: OSError,
    reason: str,
    code: str,
    params: dict[str, object],
) -> None:
    # Simulated: tests may run as root, which reads files whatever their permissions.
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise error

    monkeypatch.setattr(Path, "read_bytes", refuse)

    with pytest.raises(IngestError, match=r"^secret\.txt: ") as caught:
        load_document(path)

    assert reason in caught.value.reason
    assert (caught.value.code, caught.value.params) == (code, params)


# --- size limit ----------------------------------------------------------------------------


def test_max_bytes_rejects_larger_files() -> None:
    path = FIXTURES / "good.pdf"
    size = path.stat().st_size

    with pytest.raises(IngestError, match=r"^good\.pdf: file is .* larger than the .* limit$"):
        load_document(path, max_bytes=size - 1)


def test_max_bytes_allows_files_at_the_limit() -> None:
    path = FIXTURES / "good.pdf"

    doc = load_document(path, max_bytes=path.stat().st_size)

    assert doc.format == "pdf"


def test_max_bytes_message_in_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    size = int(61.2 * 1024 * 1024)
    with path.open("wb") as handle:
        # Sparse: the size check happens before the content is read.
        handle.truncate(size)

    with pytest.raises(IngestError) as caught:
        load_document(path, max_bytes=50 * 1024 * 1024)

    assert str(caught.value) == "big.txt: file is 61.2 MB, larger than the 50.0 MB limit"


# --- PDF failure modes inside pypdf --------------------------------------------------------


def test_exception_during_extract_text_becomes_ingest_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pypdf import PageObject

    def broken(self: PageObject, *args: object, **kwargs: object) -> str:
        raise KeyError("/Font")

    monkeypatch.setattr(PageObject, "extract_text", broken)

    with pytest.raises(IngestError) as caught:
        load_document(FIXTURES / "good.pdf")

    assert str(caught.value).startswith("good.pdf: not a readable PDF (page 1: ")


def test_missing_crypto_dependency_becomes_ingest_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # AES-encrypted PDFs need the optional 'cryptography' package in pypdf.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def needs_crypto(self: PdfReader, password: str | bytes) -> object:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_crypto)

    with pytest.raises(IngestError, match=r"^empty-password\.pdf: the PDF cannot be decrypted"):
        load_document(FIXTURES / "empty-password.pdf")


# --- text decoding and normalisation -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("Coördinatie – €5".encode("cp1252"), "Coördinatie – €5", id="cp1252"),
        pytest.param("Coördinatie".encode("latin-1"), "Coördinatie", id="latin-1"),
        pytest.param(b"\xef\xbb\xbfCo\xc3\xb6rdinatie", "Coördinatie", id="utf-8-bom"),
        pytest.param("Coördinatie".encode("utf-16"), "Coördinatie", id="utf-16-bom"),
        pytest.param(b"Coo\xcc\x88rdinatie", "Coördinatie", id="nfd-to-nfc"),
        pytest.param(
            b"line one  \r\nline two\t\rline\x00 three\x07",
            "line one\nline two\nline three",
            id="newlines-controls",
        ),
        pytest.param(b"\n\ncol1\tcol2\n\n", "col1\tcol2", id="tabs-kept-edges-trimmed"),
    ],
)
def test_text_decoding(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(content)

    assert load_document(path).pages == [Page(number=1, text=expected)]


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        pytest.param("# Title  \n\ntext", "Title", id="plain"),
        pytest.param("intro\n\n## Sub\n\n# Real title #\n", "Real title", id="closing-hashes"),
        pytest.param("```bash\n# not a title\n```\n# Title\n", "Title", id="skip-code-fence"),
        pytest.param("#hashtag only\n\ntext", "notes", id="no-heading-uses-stem"),
    ],
)
def test_markdown_title(tmp_path: Path, markdown: str, title: str) -> None:
    path = tmp_path / "notes.md"
    path.write_text(markdown, encoding="utf-8")

    assert load_document(path).title == title


def test_html_title_falls_back_to_h1_then_stem(tmp_path: Path) -> None:
    with_h1 = tmp_path / "a.htm"
    with_h1.write_text("<body><h1>Kop  <em>één</em></h1><p>tekst</p></body>", encoding="utf-8")
    without = tmp_path / "b.html"
    without.write_text("<body><p>tekst</p></body>", encoding="utf-8")

    assert load_document(with_h1).title == "Kop één"
    assert load_document(with_h1).format == "html"
    assert load_document(without).title == "b"


def test_html_title_ignores_svg_titles(tmp_path: Path) -> None:
    path = tmp_path / "icons.html"
    path.write_text(
        "<body><svg><title>Logo</title></svg><h1>Echte titel</h1><p>tekst</p></body>",
        encoding="utf-8",
    )

    doc = load_document(path)

    assert doc.title == "Echte titel"
    assert "Logo" not in doc.pages[0].text


def test_html_structure(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<ul><li>a<ul><li>b</li></ul></li><li><p>c</p></li></ul>"
        "<div>loose <b>bold</b> text</div>"
        "<table><tr><td>x|y</td></tr><tr><td>1</td><td>2</td></tr></table>"
        "<h3>Deep</h3>",
        encoding="utf-8",
    )

    text = load_document(path).pages[0].text

    assert text == (
        "- a\n  - b\n- c\n\nloose bold text\n\n| x\\|y |  |\n| --- | --- |\n| 1 | 2 |\n\n### Deep"
    )


def test_html_encoding_from_meta_charset(tmp_path: Path) -> None:
    path = tmp_path / "legacy.html"
    html = '<html><head><meta charset="windows-1252"></head><body><p>Coördinatie</p></body></html>'
    path.write_bytes(html.encode("cp1252"))

    assert load_document(path).pages[0].text == "Coördinatie"


# --- errors and module ---------------------------------------------------------------------


def test_ingest_error_attributes_and_pickling() -> None:
    err = IngestError(Path("/data/in/report.pdf"), "the PDF has no pages")

    assert str(err) == "report.pdf: the PDF has no pages"
    assert err.path == Path("/data/in/report.pdf")
    assert err.reason == "the PDF has no pages"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.path, copy.reason, str(copy)) == (err.path, err.reason, str(err))


def test_import_does_not_load_parsers() -> None:
    code = (
        "import sys, ingest.loaders; "
        "print(sorted(m for m in ('pypdf', 'bs4', 'docx') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )

    assert result.stdout.strip() == "[]"


# --- error codes for messages in the user's language ---------------------------------------

SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


@pytest.mark.parametrize(
    ("name", "code", "params"),
    [
        ("unknown.xyz", "unsupported_type", {"suffix": ".xyz", "supported": SUPPORTED_LIST}),
        ("corrupt.pdf", "unreadable_pdf", {"detail": "Stream has ended unexpectedly"}),
        ("notapdf.pdf", "not_pdf", {}),
        ("encrypted.pdf", "encrypted", {}),
        ("empty.pdf", "empty_file", {}),
        ("image-only.pdf", "no_text_pdf", {}),
        ("zero-pages.pdf", "no_pages", {}),
        ("corrupt.docx", "unreadable_docx", {"detail": "File is not a zip file"}),
        ("empty.txt", "empty_file", {}),
    ],
)
def test_bad_fixtures_carry_a_code_and_params(
    name: str, code: str, params: dict[str, object]
) -> None:
    with pytest.raises(IngestError) as caught:
        load_document(FIXTURES / name)

    assert (caught.value.code, caught.value.params) == (code, params)


def test_no_suffix_keeps_the_english_reason(tmp_path: Path) -> None:
    path = tmp_path / "README"
    path.write_text("text", encoding="utf-8")

    with pytest.raises(IngestError) as caught:
        load_document(path)

    assert (
        caught.value.reason
        == f"unsupported file type '(no extension)' (supported: {SUPPORTED_LIST})"
    )
    assert caught.value.params == {"supported": SUPPORTED_LIST}


def test_missing_file_and_directory_codes(tmp_path: Path) -> None:
    folder = tmp_path / "reports.pdf"
    folder.mkdir()

    with pytest.raises(IngestError) as missing:
        load_document(tmp_path / "missing.pdf")
    with pytest.raises(IngestError) as directory:
        load_document(folder)

    assert (missing.value.code, missing.value.params) == ("not_found", {})
    assert (directory.value.code, directory.value.params) == ("is_directory", {})


def test_too_large_params_in_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(int(61.2 * 1024 * 1024))

    with pytest.raises(IngestError) as caught:
        load_document(path, max_bytes=50 * 1024 * 1024)

    assert caught.value.code == "too_large"
    assert caught.value.params == {"size_mb": 61.2, "limit_mb": 50.0}


def test_pdf_failures_inside_pypdf_carry_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PageObject, PdfReader
    from pypdf.errors import DependencyError

    def broken(self: PageObject, *args: object, **kwargs: object) -> str:
        raise KeyError("/Font")

    def needs_crypto(self: PdfReader, password: str | bytes) -> object:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    with monkeypatch.context() as patch:
        patch.setattr(PageObject, "extract_text", broken)
        with pytest.raises(IngestError) as page_error:
            load_document(FIXTURES / "good.pdf")
    with monkeypatch.context() as patch:
        patch.setattr(PdfReader, "decrypt", needs_crypto)
        with pytest.raises(IngestError) as crypto_error:
            load_document(FIXTURES / "empty-password.pdf")

    assert page_error.value.code == "unreadable_pdf_page"
    assert page_error.value.params == {"page": 1, "detail": "'/Font'"}
    assert crypto_error.value.code == "cannot_decrypt"
    assert crypto_error.value.params == {
        "detail": "cryptography>=3.1 is required for AES algorithm"
    }


def test_ingest_error_code_defaults_and_pickling() -> None:
    plain = IngestError(Path("a.pdf"), "something went wrong")
    coded = IngestError(
        Path("/data/big.pdf"),
        "file is 61.2 MB, larger than the 50.0 MB limit",
        code="too_large",
        params={"size_mb": 61.2, "limit_mb": 50.0},
    )

    assert (plain.code, plain.params) == ("unreadable", {})
    copy = pickle.loads(pickle.dumps(coded))
    assert type(copy) is IngestError
    assert (copy.path, copy.reason, copy.code, copy.params, str(copy)) == (
        coded.path,
        coded.reason,
        coded.code,
        coded.params,
        str(coded),
    )


# --- every code has a message in every language, using only the params it gets ------------

LANGUAGES = ("en", "nl", "es")


def _file_errors(language: str) -> dict[str, str]:
    import yaml

    with (REPO_ROOT / "prompts" / f"{language}.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["file_errors"]


def _placeholders(template: str) -> set[str]:
    import string

    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _all_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """(code, params) of every kind of error the ingest code produces, provoked for real."""
    import docx
    from pypdf import PageObject, PdfReader
    from pypdf.errors import DependencyError

    from assistant import Settings
    from ingest import pipeline
    from ingest.pipeline import Indexer, collect_files
    from ingest.uploads import UploadRejected, stage_upload
    from tests.ingest.test_limits import limit_errors

    found: list[tuple[str, dict]] = []

    def loader_error(path: Path, max_bytes: int | None = None) -> None:
        with pytest.raises(IngestError) as caught:
            load_document(path, max_bytes)
        found.append((caught.value.code, caught.value.params))

    def fail(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    for name in (
        "unknown.xyz",
        "corrupt.pdf",
        "notapdf.pdf",
        "encrypted.pdf",
        "empty.pdf",
        "image-only.pdf",
        "zero-pages.pdf",
        "corrupt.docx",
        "empty.txt",
    ):
        loader_error(FIXTURES / name)
    loader_error(FIXTURES / "good.pdf", max_bytes=100)
    loader_error(tmp_path / "missing.pdf")
    (tmp_path / "folder.pdf").mkdir()
    loader_error(tmp_path / "folder.pdf")
    for name, content in [
        ("README", b"x"),
        ("bin.txt", b"\x00" * 100),
        ("script.html", b"<script>x</script>"),
        ("page.html", b"<p>x</p>"),
    ]:
        (tmp_path / name).write_bytes(content)
    loader_error(tmp_path / "README")
    loader_error(tmp_path / "bin.txt")
    loader_error(tmp_path / "script.html")
    docx.Document().save(str(tmp_path / "empty.docx"))
    loader_error(tmp_path / "empty.docx")
    with monkeypatch.context() as patch:
        patch.setattr("bs4.BeautifulSoup", fail)
        loader_error(tmp_path / "page.html")
    with monkeypatch.context() as patch:
        patch.setattr(Path, "read_bytes", fail)
        loader_error(FIXTURES / "sample.txt")
    with monkeypatch.context() as patch:
        patch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(OSError(5, "I/O")))
        loader_error(FIXTURES / "sample.txt")
    with monkeypatch.context() as patch:
        patch.setattr(Path, "is_dir", lambda self: (_ for _ in ()).throw(OSError(40, "loop")))
        loader_error(FIXTURES / "sample.txt")
    with monkeypatch.context() as patch:
        patch.setattr(PageObject, "extract_text", fail)
        loader_error(FIXTURES / "good.pdf")
    with monkeypatch.context() as patch:
        patch.setattr(PdfReader, "decrypt", lambda *a: (_ for _ in ()).throw(DependencyError("x")))
        loader_error(FIXTURES / "empty-password.pdf")
    plain = IngestError(Path("x.pdf"), "old-style caller")
    found.append((plain.code, plain.params))
    # The per-file limits: pages, characters, expansion, time, memory, a reader that dies.
    found.extend(limit_errors(tmp_path))

    # Pipeline outcomes: collect_files, and ingest_file against stand-ins for store and model.
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "data.csv").write_text("a,b")
    (tmp_path / "walk" / "Makefile").write_text("all:")
    _, decided = collect_files([tmp_path / "walk", tmp_path / "nowhere"])
    found.extend((o.code, o.params) for o in decided)

    class Store:
        def find_by_doc_id(self, doc_id: str) -> None:
            return None

        def check_room(self) -> None:
            pass  # the space runs out during the write itself

        def replace_document(self, *args: object) -> None:
            raise OSError(28, "No space left on device")

    class Embedder:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0] for _ in texts]

    settings = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    indexer = Indexer(settings, Store(), Embedder())  # type: ignore[arg-type]
    monkeypatch.setattr(pipeline, "detect_language", lambda text: "en")
    outcomes = [indexer.ingest_file(FIXTURES / "sample.txt")]
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "chunk_document", lambda *args: [])
        outcomes.append(indexer.ingest_file(FIXTURES / "sample.txt"))
    outcomes.append(indexer.ingest_file(FIXTURES / "encrypted.pdf"))
    assert [o.status for o in outcomes] == ["failed"] * 3
    found.extend((o.code, o.params) for o in outcomes)

    # Uploads.
    (tmp_path / "upload").write_bytes(b"0123456789")
    (tmp_path / "empty-upload").write_bytes(b"")
    for source, name in [
        ("upload", "data.csv"),
        ("upload", "README"),
        ("upload", ".."),
        ("empty-upload", "a.txt"),
        ("upload", "a.txt"),
        ("gone", "a.txt"),
    ]:
        with pytest.raises(UploadRejected) as rejected:
            stage_upload(tmp_path / source, name, tmp_path / "uploads", 5)
        found.append((rejected.value.code, rejected.value.params))
    return found


def test_every_error_code_has_a_message_in_every_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = _all_errors(tmp_path, monkeypatch)
    codes = {code for code, _ in errors}

    assert "" not in codes  # every failure says why in a machine-readable way
    for language in LANGUAGES:
        templates = _file_errors(language)
        # Every code has a message in every language, and no message is for a code never
        # used (source_missing is the web UI's: a re-index whose file has gone).
        assert set(templates) == codes | {"source_missing"}, language
        for code, params in errors:
            template = templates[code]
            assert _placeholders(template) <= set(params), (language, code, params)
            assert template.format(**params)
            assert all(isinstance(v, str | int | float) for v in params.values()), code


def test_messages_have_the_same_codes_and_placeholders_in_every_language() -> None:
    english = _file_errors("en")
    for language in LANGUAGES:
        templates = _file_errors(language)
        assert set(templates) == set(english), language
        for code, template in templates.items():
            assert _placeholders(template) == _placeholders(english[code]), (language, code)
