"""The web app's origin in browser tests: a static server on its own port, reached under names
that Chromium resolves to 127.0.0.1 (`app.taskchat.test` is the app, same site as the gateway's
`api.taskchat.test`; `evil.test` is a foreign site). It serves the browser modules the gateway's
dev page uses (turn-fetch.js, fallback-client.js) and a page that loads them against the gateway
named in its `?gateway=` query (`#chat` also mounts the fallback client).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from services.gateway.dev_page.page import STATIC_DIR
from services.launcher.net import free_port

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TaskChat app (test)</title>
<link rel="stylesheet" href="/static/fallback.css"></head>
<body><div id="chat"></div>
<script type="module">
import { createTurnFetch } from "/static/turn-fetch.js";
import { mountFallback } from "/static/fallback-client.js";
window.gateway = new URLSearchParams(location.search).get("gateway");
window.turnEvents = [];
window.turnFetch = createTurnFetch({ onEvent: (event) => window.turnEvents.push(event) });
if (location.hash === "#chat") {
  mountFallback(document.getElementById("chat"), {
    apiUrl: window.gateway + "/chatkit",
    fetch: window.turnFetch,
  });
}
window.appReady = true;
</script></body></html>
"""

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


class AppServer:
    def __init__(self) -> None:
        self.port = free_port("127.0.0.1")
        page = PAGE.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/":
                    self._send(200, "text/html", page)
                    return
                name = path.removeprefix("/static/")
                file = STATIC_DIR / name
                if path.startswith("/static/") and "/" not in name and file.is_file():
                    self._send(
                        200, CONTENT_TYPES.get(Path(name).suffix, "text/plain"), file.read_bytes()
                    )
                    return
                self._send(404, "text/plain", b"not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def start(self) -> AppServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
