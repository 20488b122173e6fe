"""Lineage in SQLite: runs, steps, the artifacts each step read and wrote, and the cache.

Every write happens in a transaction from the runner's main thread, so an interrupted run
leaves either a whole step record or none. Walking back from an artifact follows the step that
produced it to that step's inputs, parameters and code, down to the data a pipeline started from.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.local.values import ArtifactValue

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, spec TEXT NOT NULL, root TEXT NOT NULL,
    ir_hash TEXT NOT NULL, status TEXT NOT NULL, params TEXT NOT NULL, outputs TEXT,
    started REAL NOT NULL, finished REAL, message TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
    task TEXT NOT NULL, component TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    code_sha256 TEXT, params TEXT NOT NULL DEFAULT '{}', outputs TEXT NOT NULL DEFAULT '{}',
    cache_key TEXT, cached_from INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
    started REAL, finished REAL, message TEXT NOT NULL DEFAULT '', log TEXT
);
CREATE INDEX IF NOT EXISTS steps_run ON steps(run_id);
CREATE TABLE IF NOT EXISTS artifacts (
    sha256 TEXT PRIMARY KEY, type TEXT NOT NULL, uri TEXT NOT NULL, size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS step_artifacts (
    step_id INTEGER NOT NULL REFERENCES steps(id), direction TEXT NOT NULL, name TEXT NOT NULL,
    position INTEGER NOT NULL, sha256 TEXT NOT NULL REFERENCES artifacts(sha256),
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS step_artifacts_sha ON step_artifacts(sha256, direction);
CREATE INDEX IF NOT EXISTS step_artifacts_step ON step_artifacts(step_id);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY, step_id INTEGER NOT NULL REFERENCES steps(id), created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL,
    model_sha256 TEXT NOT NULL, framework TEXT NOT NULL, approval TEXT NOT NULL,
    metrics TEXT NOT NULL, run_id TEXT NOT NULL, step_id INTEGER NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS monitoring (
    id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL, model_name TEXT NOT NULL,
    version INTEGER NOT NULL, baseline_sha256 TEXT NOT NULL, rows INTEGER NOT NULL,
    drifted INTEGER NOT NULL, report TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_triggers (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    monitoring_id INTEGER NOT NULL REFERENCES monitoring(id)
);
CREATE TABLE IF NOT EXISTS endpoints (
    name TEXT PRIMARY KEY, model_name TEXT NOT NULL, version INTEGER NOT NULL,
    model_sha256 TEXT NOT NULL, run_id TEXT NOT NULL, step_id INTEGER NOT NULL,
    updated REAL NOT NULL
);
"""


@dataclass(frozen=True)
class CachedStep:
    """A step whose outputs can stand in for running it again."""

    step_id: int
    run_id: str
    params: dict[str, Any]
    artifacts: dict[str, ArtifactValue]


class LineageDB:
    """The store's ``lineage.db``; one connection, used from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL keeps the database consistent through any crash and loses at most
        # the last commits on a power cut; FULL would fsync twice per step (3 ms each here).
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.conn:
            self.conn.executescript(_SCHEMA)
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(steps)")}
            if "image" not in columns:  # stores made before steps ran in images
                self.conn.execute("ALTER TABLE steps ADD COLUMN image TEXT")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    # ----- runs ----------------------------------------------------------------------------

    def start_run(
        self, run_id: str, pipeline: str, spec: str, root: str, ir_hash: str, params: dict[str, Any]
    ) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO runs (id, pipeline, spec, root, ir_hash, status, params, started)"
                " VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (run_id, pipeline, spec, root, ir_hash, _dump(params), time.time()),
            )

    def finish_run(self, run_id: str, status: str, outputs: dict[str, Any], message: str) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET status = ?, outputs = ?, finished = ?, message = ? WHERE id = ?",
                (status, _dump(outputs), time.time(), message, run_id),
            )

    def runs(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id AND s.status = 'done'"
            " AND s.cached_from IS NULL) AS ran, (SELECT COUNT(*) FROM steps s WHERE"
            " s.run_id = r.id AND s.cached_from IS NOT NULL) AS cached, (SELECT COUNT(*) FROM"
            " steps s WHERE s.run_id = r.id AND s.status = 'failed') AS failed"
            " FROM runs r ORDER BY r.started DESC, r.id DESC"
        ).fetchall()

    def run(self, run_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return row

    def steps_of(self, run_id: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY id", (run_id,)
        ).fetchall()

    # ----- steps ---------------------------------------------------------------------------

    def start_step(
        self,
        run_id: str,
        name: str,
        task: str,
        component: str,
        kind: str,
        code_sha256: str | None,
        params: dict[str, Any],
        inputs: dict[str, ArtifactValue | list[ArtifactValue]],
        cache_key: str | None,
        image: str | None = None,
    ) -> int:
        """``image``: the ``repo@sha256:...`` the step runs in, when it runs in an image."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO steps (run_id, name, task, component, kind, status, code_sha256,"
                " params, cache_key, started, image)"
                " VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (
                    run_id,
                    name,
                    task,
                    component,
                    kind,
                    code_sha256,
                    _dump(params),
                    cache_key,
                    time.time(),
                    image,
                ),
            )
            step_id = int(cur.lastrowid or 0)
            for port, given in inputs.items():
                items = given if isinstance(given, list) else [given]
                for position, artifact in enumerate(items):
                    self._link(c, step_id, "in", port, position, artifact)
        return step_id

    def set_image(self, step_id: int, image: str) -> None:
        """The image a started step runs in, where that is known only once its job starts."""
        with self.transaction() as c:
            c.execute("UPDATE steps SET image = ? WHERE id = ?", (image, step_id))

    def finish_step(
        self,
        step_id: int,
        status: str,
        *,
        attempts: int,
        message: str = "",
        outputs: dict[str, Any] | None = None,
        artifacts: dict[str, tuple[ArtifactValue, int]] | None = None,
        cached_from: int | None = None,
        log: str | None = None,
        cache_key: str | None = None,
    ) -> None:
        """Close a step record; with ``cache_key``, its outputs become reusable (same transaction)."""
        now = time.time()
        with self.transaction() as c:
            for port, (artifact, size) in (artifacts or {}).items():
                c.execute(
                    "INSERT OR IGNORE INTO artifacts (sha256, type, uri, size, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (artifact.sha256, artifact.type, artifact.uri, size, now),
                )
                self._link(c, step_id, "out", port, 0, artifact)
            c.execute(
                "UPDATE steps SET status = ?, attempts = ?, message = ?, outputs = ?,"
                " cached_from = ?, log = ?, finished = ? WHERE id = ?",
                (status, attempts, message, _dump(outputs or {}), cached_from, log, now, step_id),
            )
            if cache_key is not None:
                c.execute(
                    "INSERT OR REPLACE INTO cache (key, step_id, created) VALUES (?, ?, ?)",
                    (cache_key, step_id, now),
                )

    def record_unrun(
        self, run_id: str, name: str, task: str, component: str, status: str, message: str
    ) -> None:
        """A step that did not start: skipped by a condition, or stopped by a failed dependency."""
        now = time.time()
        with self.transaction() as c:
            c.execute(
                "INSERT INTO steps (run_id, name, task, component, kind, status, message, started,"
                " finished) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)",
                (run_id, name, task, component, status, message, now, now),
            )

    def interrupt_open_steps(self, run_id: str) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE steps SET status = 'interrupted', finished = ? WHERE run_id = ?"
                " AND status = 'running'",
                (time.time(), run_id),
            )

    @staticmethod
    def _link(
        c: sqlite3.Connection,
        step_id: int,
        direction: str,
        port: str,
        position: int,
        artifact: ArtifactValue,
    ) -> None:
        c.execute(
            "INSERT INTO step_artifacts (step_id, direction, name, position, sha256, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (step_id, direction, port, position, artifact.sha256, _dump(artifact.metadata)),
        )

    # ----- cache ---------------------------------------------------------------------------

    def cached(self, key: str, artifact_path: Any) -> CachedStep | None:
        """The step that last produced these outputs, if every artifact is still on disk."""
        row = self.conn.execute(
            "SELECT s.id, s.run_id, s.outputs FROM cache c JOIN steps s ON s.id = c.step_id"
            " WHERE c.key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        artifacts: dict[str, ArtifactValue] = {}
        for link in self.step_artifacts(int(row["id"]), "out"):
            path: Path = artifact_path(link["sha256"])
            if not path.exists():
                return None
            artifacts[link["name"]] = ArtifactValue(
                link["sha256"], link["type"], str(path), link["uri"], json.loads(link["metadata"])
            )
        return CachedStep(int(row["id"]), str(row["run_id"]), json.loads(row["outputs"]), artifacts)

    # ----- monitoring ----------------------------------------------------------------------

    def record_monitoring(
        self,
        endpoint: str,
        model_name: str,
        version: int,
        baseline_sha256: str,
        rows: int,
        drifted: bool,
        report: dict[str, Any],
    ) -> int:
        """One monitoring result; its id is what a drift-triggered run points back to."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO monitoring (endpoint, model_name, version, baseline_sha256, rows,"
                " drifted, report, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    endpoint,
                    model_name,
                    version,
                    baseline_sha256,
                    rows,
                    int(drifted),
                    _dump(report),
                    time.time(),
                ),
            )
            return int(cur.lastrowid or 0)

    def link_trigger(self, run_id: str, monitoring_id: int) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO run_triggers (run_id, monitoring_id) VALUES (?, ?)",
                (run_id, monitoring_id),
            )

    def trigger_of(self, run_id: str) -> dict[str, Any] | None:
        """The monitoring result that started a run, or None for a run started by hand."""
        row = self.conn.execute(
            "SELECT m.* FROM run_triggers t JOIN monitoring m ON m.id = t.monitoring_id"
            " WHERE t.run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            return None
        report = json.loads(row["report"])
        return {
            "monitoring_id": int(row["id"]),
            "endpoint": row["endpoint"],
            "model": row["model_name"],
            "version": int(row["version"]),
            "baseline_sha256": row["baseline_sha256"],
            "rows": int(row["rows"]),
            "drifted_features": report.get("drifted_features", []),
        }

    # ----- artifacts and walking back -------------------------------------------------------

    def step(self, step_id: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM steps WHERE id = ?", (step_id,)
        ).fetchone()
        return row

    def step_artifacts(self, step_id: int, direction: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT l.name, l.position, l.sha256, l.metadata, a.type, a.uri, a.size"
            " FROM step_artifacts l JOIN artifacts a ON a.sha256 = l.sha256"
            " WHERE l.step_id = ? AND l.direction = ? ORDER BY l.name, l.position",
            (step_id, direction),
        ).fetchall()

    def artifact(self, ref: str) -> sqlite3.Row | None:
        """An artifact by sha256 (or a unique prefix of 8+ characters) or by URI."""
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM artifacts WHERE uri = ? OR sha256 = ?", (ref, ref)
        ).fetchone()
        if row is None and len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref):
            rows = self.conn.execute(
                "SELECT * FROM artifacts WHERE sha256 LIKE ? LIMIT 2", (ref + "%",)
            ).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return row

    def producer(self, sha256: str) -> sqlite3.Row | None:
        """The step that first computed an artifact (cache hits point back to it)."""
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT s.* FROM step_artifacts l JOIN steps s ON s.id = l.step_id"
            " WHERE l.sha256 = ? AND l.direction = 'out'"
            " ORDER BY s.cached_from IS NOT NULL, s.id LIMIT 1",
            (sha256,),
        ).fetchone()
        return row


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def trace_artifact(
    db: LineageDB, sha256: str, _seen: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """An artifact and, recursively, the step that produced it and that step's inputs."""
    row = db.artifact(sha256)
    node: dict[str, Any] = {"sha256": sha256}
    if row is not None:
        node.update(type=row["type"], uri=row["uri"], size=row["size"])
    producer = db.producer(sha256)
    if producer is None or sha256 in _seen:
        node["produced_by"] = None
        return node
    node["produced_by"] = describe_step(db, producer, _seen | {sha256})
    return node


def describe_step(
    db: LineageDB, step: sqlite3.Row, _seen: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A step with its run, code hash, parameters, and the lineage of each artifact it read."""
    run = db.run(step["run_id"])
    inputs: dict[str, list[dict[str, Any]]] = {}
    for link in db.step_artifacts(int(step["id"]), "in"):
        inputs.setdefault(link["name"], []).append(trace_artifact(db, link["sha256"], _seen))
    return {
        "step": step["name"],
        "component": step["component"],
        "kind": step["kind"],
        "run_id": step["run_id"],
        "pipeline": run["pipeline"] if run else None,
        "ir_hash": run["ir_hash"] if run else None,
        "code_sha256": step["code_sha256"],
        **({"image": step["image"]} if step["image"] else {}),
        "params": json.loads(step["params"]),
        "status": step["status"],
        "inputs": inputs,
    }


def trace_run(db: LineageDB, run_id: str) -> dict[str, Any] | None:
    """A run, its parameters, and every step with what it read and wrote."""
    run = db.run(run_id)
    if run is None:
        return None
    steps = []
    for step in db.steps_of(run_id):
        steps.append(
            {
                "step": step["name"],
                "status": step["status"],
                "cached_from_run": _run_of(db, step["cached_from"]),
                "code_sha256": step["code_sha256"],
                "params": json.loads(step["params"]),
                "inputs": _links(db, int(step["id"]), "in"),
                "outputs": _links(db, int(step["id"]), "out"),
                "message": step["message"],
            }
        )
    return {
        "run_id": run["id"],
        "pipeline": run["pipeline"],
        "ir_hash": run["ir_hash"],
        "status": run["status"],
        "params": json.loads(run["params"]),
        "outputs": json.loads(run["outputs"] or "{}"),
        "triggered_by": db.trigger_of(run_id),
        "steps": steps,
    }


def _run_of(db: LineageDB, step_id: int | None) -> str | None:
    if step_id is None:
        return None
    row = db.step(step_id)
    return str(row["run_id"]) if row else None


def _links(db: LineageDB, step_id: int, direction: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for link in db.step_artifacts(step_id, direction):
        out.setdefault(link["name"], []).append(link["sha256"])
    return out
