"""A real Chroma server for the server-mode tests, and a token-checking proxy for it.

The server is `chroma run` from the chromadb wheel (the Rust server), or the one
CI started and named in ASSISTANT_TEST_CHROMA_URL. Tests never skip when it is
missing: they fail with the server's own output.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

URL_VARIABLE = "ASSISTANT_TEST_CHROMA_URL"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Hop-by-hop headers belong to one connection and are not forwarded by a proxy.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "host", "content-length"}


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    ssl: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2.0) as reply:
                return reply.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def admin(self) -> Any:
        """A chromadb admin client (databases and tenants) for this server."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        return chromadb.AdminClient(ChromaSettings(
            anonymized_telemetry=False,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=self.host,
            chroma_server_http_port=self.port,
            chroma_server_ssl_enabled=self.ssl,
        ))


def server_from_url(url: str) -> ChromaServer:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        pytest.fail(f"{URL_VARIABLE}={url!r} is not an http(s)://host:port URL", pytrace=False)
    ssl = parts.scheme == "https"
    return ChromaServer(parts.hostname, parts.port or (443 if ssl else 80), ssl)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroma_executable() -> str:
    # The wheel installs `chroma` next to the interpreter; PATH is the fallback.
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.is_file() else shutil.which("chroma")
    if not found:
        pytest.fail("no `chroma` command: install the project (pip install -e .), whose "
                    "chromadb wheel provides it", pytrace=False)
    return found


def _tail(log_path: Path, lines: int = 40) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def wait_until_answers(server: ChromaServer, process: subprocess.Popen[bytes] | None = None,
                       log_path: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.answers():
        output = f":\n{_tail(log_path)}" if log_path else ""
        if process is not None and process.poll() is not None:
            pytest.fail(f"`chroma run` exited with code {process.returncode} before answering"
                        f"{output}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"the Chroma server at {server.url} did not answer its heartbeat within "
                        f"{START_TIMEOUT_S:g} s{output}", pytrace=False)
        time.sleep(0.2)


@contextmanager
def chroma_run(data_dir: Path) -> Iterator[ChromaServer]:
    """`chroma run` on a free loopback port with its data in `data_dir`; stopped on exit."""
    server = ChromaServer("127.0.0.1", free_port())
    command = [chroma_executable(), "run", "--path", str(data_dir / "chroma"),
               "--host", server.host, "--port", str(server.port)]
    # A file, not a pipe: nobody reads the output while the tests run, and a full
    # pipe would block the server.
    log_path = data_dir / "chroma-run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answers(server, process, log_path)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class TokenProxy:
    """What a reverse proxy in front of Chroma does for auth, in miniature.

    Forwards every request to the server when it carries `Authorization: Bearer
    <token>`, answers 401 otherwise (as Caddy or nginx would, in plain text), and
    records the Authorization and X-Chroma-Token headers of each request.
    """

    def __init__(self, upstream: ChromaServer, token: str) -> None:
        self.upstream = upstream
        self.token = token
        self.seen: list[str | None] = []
        self.seen_x_token: list[str | None] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server = ChromaServer("127.0.0.1", self._server.server_address[1])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                header = self.headers.get("Authorization")
                with proxy._lock:
                    proxy.seen.append(header)
                    proxy.seen_x_token.append(self.headers.get("X-Chroma-Token"))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if header != f"Bearer {proxy.token}":
                    self._reply(401, b"unauthorized\n", {"Content-Type": "text/plain"})
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.upstream.host, proxy.upstream.port,
                                                      timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                    kept = {k: v for k, v in reply.getheaders() if k.lower() not in _HOP_BY_HOP}
                    self._reply(reply.status, data, kept)
                finally:
                    upstream.close()

            def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep the test output clean

        return Handler

    def __enter__(self) -> TokenProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
