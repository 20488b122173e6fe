"""The request sink of a monitored KServe InferenceService: where its logger posts requests.

KServe's inference logger (``spec.predictor.logger: {mode: request, url: ...}``) posts each
request the predictor receives as a CloudEvent in binary mode: the ``ce-*`` headers describe the
event (``ce-type`` is ``org.kubeflow.serving.inference.request``) and the body is the request
as the predictor got it. This server keeps those bodies, one JSON line each, in hourly files
on its volume, and serves them to the monitoring job; the pipeline's ``publish_baseline`` step
PUTs the baseline here. Standard library only, like the job, so it runs from the same ConfigMap
in any image with ``python3``::

    POST /            a logged request (other event types, e.g. responses, are ignored)
    GET  /requests    the bodies logged in the last ``hours`` hours (default 1), JSON lines
    PUT  /baseline    replace the baseline CSV;  GET /baseline  read it
    GET  /healthz     liveness

Files older than ``--retention-hours`` are deleted as new hours begin.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: The largest request body kept; a larger one is refused (413) rather than buffered.
MAX_BODY = 16 * 2**20
REQUEST_EVENT = "org.kubeflow.serving.inference.request"


class Store:
    """Hourly JSON-lines files of request bodies, and the baseline, under ``root``."""

    def __init__(self, root: Path, retention_hours: int = 168) -> None:
        self.root = root
        self.retention_hours = retention_hours
        self.lock = threading.Lock()
        self._hour = -1
        root.mkdir(parents=True, exist_ok=True)

    def _file(self, hour: int) -> Path:
        return self.root / f"requests-{hour}.jsonl"

    def add(self, body: Any, now: float | None = None) -> None:
        # The hour a request arrives in names its file: serving state, not compiled output.
        hour = int((time.time() if now is None else now) // 3600)  # nondeterministic-ok
        line = json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n"
        with self.lock:
            with open(self._file(hour), "a", encoding="utf-8") as f:
                f.write(line)
            if hour != self._hour:
                self._hour = hour
                self._expire(hour)

    def _expire(self, hour: int) -> None:
        for file in self.root.glob("requests-*.jsonl"):
            stamp = file.stem.split("-", 1)[1]
            if stamp.isdigit() and int(stamp) <= hour - self.retention_hours:
                file.unlink()

    def recent(self, hours: int, now: float | None = None) -> str:
        """The bodies logged in the current hour and the ``hours - 1`` before it."""
        hour = int((time.time() if now is None else now) // 3600)  # nondeterministic-ok
        parts = []
        for h in range(hour - max(1, hours) + 1, hour + 1):
            file = self._file(h)
            if file.exists():
                parts.append(file.read_text(encoding="utf-8"))
        return "".join(parts)

    def put_baseline(self, data: bytes) -> None:
        partial = self.root / "baseline.csv.partial"
        partial.write_bytes(data)
        os.replace(partial, self.root / "baseline.csv")

    def baseline(self) -> bytes | None:
        path = self.root / "baseline.csv"
        return path.read_bytes() if path.exists() else None


def handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"request too large\n")
                return None
            return self.rfile.read(length)

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self._body()
            if body is None:
                return
            kind = self.headers.get("ce-type") or REQUEST_EVENT
            if kind != REQUEST_EVENT:
                self._send(202, b"ignored\n")
                return
            try:
                store.add(json.loads(body.decode("utf-8")))
            except ValueError:
                self._send(400, b"not a JSON request\n")
                return
            self._send(202, b"logged\n")

        def do_PUT(self) -> None:
            if urllib.parse.urlsplit(self.path).path != "/baseline":
                self._send(404, b"only /baseline takes a PUT\n")
                return
            body = self._body()
            if body is None:
                return
            store.put_baseline(body)
            self._send(204, b"")

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/healthz":
                self._send(200, b"ok\n")
            elif url.path == "/requests":
                query = urllib.parse.parse_qs(url.query)
                hours = int((query.get("hours") or ["1"])[0])
                self._send(200, store.recent(hours).encode(), "application/x-ndjson")
            elif url.path == "/baseline":
                data = store.baseline()
                if data is None:
                    self._send(404, b"no baseline yet: the pipeline's deploy publishes it\n")
                else:
                    self._send(200, data, "text/csv")
            else:
                self._send(404, b"not found\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="KServe request logger sink")
    parser.add_argument("--dir", default="/data")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--retention-hours", type=int, default=168)
    args = parser.parse_args(argv)
    store = Store(Path(args.dir), args.retention_hours)
    server = ThreadingHTTPServer(("", args.port), handler(store))
    print(json.dumps({"listening": args.port, "dir": args.dir}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
