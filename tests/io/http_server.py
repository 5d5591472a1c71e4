"""A small HTTP file server on 127.0.0.1 for downloader tests: Range support, and files whose
first transfer breaks off halfway (to test resumption)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FileServer:
    """Files served by path; ``truncate_once`` paths break off halfway on their first request."""

    files: dict[str, bytes]
    truncate_once: set[str] = field(default_factory=set)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    base_url: str = ""


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].lstrip("/")
            range_header = self.headers.get("Range")
            state.requests.append((path, range_header))
            body = state.files.get(path)
            if body is None:
                self.send_error(404)
                return
            start = 0
            if range_header:
                start = int(re.match(r"bytes=(\d+)-", range_header).group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            payload = body[start:]
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if path in state.truncate_once:
                state.truncate_once.discard(path)
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve(files: dict[str, bytes], truncate_once: set[str] | None = None) -> Iterator[FileServer]:
    """Serves ``files`` on an ephemeral loopback port until the block ends."""
    state = FileServer(files=files, truncate_once=set(truncate_once or ()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
