"""A stand-in gateway for the probe tests: answers GET /readyz like realtime's readiness check.

Usage: fake_gateway.py PORT MODE, MODE `ok` (200), `unavailable` (503) or `flaky` (every second answer 503).
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[2] if len(sys.argv) > 2 else "ok"
_count = 0


class Readyz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        global _count
        _count += 1
        ok = MODE == "ok" or (MODE == "flaky" and _count % 2 == 1)
        if self.path != "/readyz":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {"status": "ok", "checks": {"database": True, "bus": True}}
            if ok
            else {"status": "unavailable", "checks": {"database": False, "bus": True}}
        ).encode()
        self.send_response(200 if ok else 503)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Readyz)
    print("listening", flush=True)
    server.serve_forever()
