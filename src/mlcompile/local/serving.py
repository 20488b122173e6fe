"""Serving a locally deployed model on 127.0.0.1: ``POST /predict`` with CSV or JSON rows.

The standard library's threading HTTP server is enough for development and smoke tests; the
model is loaded once, when the server starts. With ``capture``, the features of every row it
serves are appended to that file (one JSON line each), which ``mlcompile monitor`` compares with
the model's baseline, as SageMaker's data capture and KServe's request logger do on a cluster.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mlcompile.local.registry import Endpoint
from mlcompile.runtime.predict import (
    PredictionError,
    Rows,
    load_model,
    parse_csv,
    parse_json,
    predict,
)

_MAX_BODY = 64 << 20


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, port: int, endpoint: Endpoint, model_path: Path, capture: Path | None = None
    ) -> None:
        self.endpoint = endpoint
        self.model = load_model(model_path)
        self.capture = capture
        self._capture_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def record(self, rows: Rows) -> None:
        """Append the served rows' features, tagged with the model version that served them."""
        if self.capture is None or not rows:
            return
        names = [str(n) for n in getattr(self.model, "feature_names_in_", [])]
        stamp = round(time.time(), 3)
        lines = []
        for row in rows:
            features = row if isinstance(row, dict) else dict(zip(names, row, strict=False))
            lines.append(
                json.dumps(
                    {
                        "received": stamp,
                        "model": self.endpoint.model_name,
                        "version": self.endpoint.version,
                        "features": features,
                    },
                    sort_keys=True,
                )
            )
        text = "".join(line + "\n" for line in lines)
        with self._capture_lock:
            self.capture.parent.mkdir(parents=True, exist_ok=True)
            with self.capture.open("a", encoding="utf-8") as f:
                f.write(text)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def describe(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint.name,
            "model": self.endpoint.model_name,
            "version": self.endpoint.version,
            "model_sha256": self.endpoint.model_sha256,
        }


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/health"):
            self._reply(200, {"status": "ok", **self.server.describe()})
        else:
            self._reply(404, {"error": "use POST /predict, or GET /health"})

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/predict":
            self._reply(404, {"error": "use POST /predict"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._reply(413, {"error": f"send at most {_MAX_BODY} bytes per request"})
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            rows: Rows = parse_csv(body) if content_type == "text/csv" else parse_json(body)
            predictions = predict(self.server.model, rows)
        except (PredictionError, ValueError) as exc:
            self._reply(400, {"error": str(exc)})
            return
        self.server.record(rows)
        self._reply(200, {"predictions": predictions, **self.server.describe()})

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """One short line per request on stderr (the default adds a timestamp and host)."""
        import sys

        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", file=sys.stderr)
