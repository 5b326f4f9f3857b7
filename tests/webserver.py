"""A tiny HTTP server for get_url's tests: real sockets on 127.0.0.1, in a thread."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: What the server answers, by path: (bytes, the header a request must carry or None).
PAGES = {
    "/a.txt": (b"hello\n", None),
    "/dir/b.bin": (bytes(range(256)) * 4, None),
    "/auth.txt": (b"secret\n", ("Authorization", "Basic " + base64.b64encode(b"user:pw").decode())),
    "/header.txt": (b"with header\n", ("X-Token", "t")),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        page = PAGES.get(self.path)
        if page is None:
            self.send_error(404)
            return
        body, needed = page
        if needed and self.headers.get(needed[0]) != needed[1]:
            self.send_error(401 if needed[0] == "Authorization" else 403)
            return
        self.server.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class WebServer:
    def __init__(self, port: int):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.hits = []
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
