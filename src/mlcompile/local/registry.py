"""The local model registry and endpoint records: what register_model and deploy_model do locally.

A version is registered once per (model name, model content): registering the same trained
model again returns its existing version, so rerunning a pipeline does not pile up versions.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from mlcompile.local.lineage import LineageDB


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    model_sha256: str
    framework: str
    approval: str
    metrics: dict[str, float]
    run_id: str
    step_id: int

    def card(self) -> dict[str, Any]:
        """The registered-model artifact's content: stable for the same model and version."""
        return {
            "name": self.name,
            "version": self.version,
            "model_sha256": self.model_sha256,
            "framework": self.framework,
        }


@dataclass(frozen=True)
class Endpoint:
    name: str
    model_name: str
    version: int
    model_sha256: str
    run_id: str


def register(
    db: LineageDB,
    name: str,
    model_sha256: str,
    framework: str,
    approval: str,
    metrics: dict[str, float],
    run_id: str,
    step_id: int,
) -> tuple[ModelVersion, bool]:
    """The version for this model content, registering a new one if needed; True when new."""
    row = db.conn.execute(
        "SELECT * FROM models WHERE name = ? AND model_sha256 = ? ORDER BY version DESC LIMIT 1",
        (name, model_sha256),
    ).fetchone()
    if row is not None:
        return _version(row), False
    with db.transaction() as c:
        latest = c.execute(
            "SELECT COALESCE(MAX(version), 0) FROM models WHERE name = ?", (name,)
        ).fetchone()[0]
        version = ModelVersion(
            name, int(latest) + 1, model_sha256, framework, approval, metrics, run_id, step_id
        )
        c.execute(
            "INSERT INTO models (name, version, sha256, model_sha256, framework, approval, metrics,"
            " run_id, step_id, created) VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                version.version,
                model_sha256,
                framework,
                approval,
                json.dumps(metrics, sort_keys=True),
                run_id,
                step_id,
                time.time(),
            ),
        )
    return version, True


def set_card_sha(db: LineageDB, version: ModelVersion, sha256: str) -> None:
    """Link a version to its registered-model artifact, so lineage can start from either."""
    with db.transaction() as c:
        c.execute(
            "UPDATE models SET sha256 = ? WHERE name = ? AND version = ?",
            (sha256, version.name, version.version),
        )


def model(db: LineageDB, name: str, version: int | None = None) -> ModelVersion | None:
    """A version of a model, or its latest version."""
    if version is None:
        row = db.conn.execute(
            "SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
        ).fetchone()
    else:
        row = db.conn.execute(
            "SELECT * FROM models WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
    return _version(row) if row else None


def card_sha(db: LineageDB, version: ModelVersion) -> str | None:
    row = db.conn.execute(
        "SELECT sha256 FROM models WHERE name = ? AND version = ?", (version.name, version.version)
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def deploy(
    db: LineageDB, endpoint: str, version: ModelVersion, run_id: str, step_id: int
) -> Endpoint:
    """Point ``endpoint`` at a model version (created, or updated when it exists)."""
    with db.transaction() as c:
        c.execute(
            "INSERT OR REPLACE INTO endpoints (name, model_name, version, model_sha256, run_id,"
            " step_id, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                endpoint,
                version.name,
                version.version,
                version.model_sha256,
                run_id,
                step_id,
                time.time(),
            ),
        )
    return Endpoint(endpoint, version.name, version.version, version.model_sha256, run_id)


def endpoint(db: LineageDB, name: str) -> Endpoint | None:
    row = db.conn.execute("SELECT * FROM endpoints WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return Endpoint(
        row["name"], row["model_name"], int(row["version"]), row["model_sha256"], row["run_id"]
    )


def endpoints(db: LineageDB) -> list[str]:
    return [str(r[0]) for r in db.conn.execute("SELECT name FROM endpoints ORDER BY name")]


def _version(row: sqlite3.Row) -> ModelVersion:
    return ModelVersion(
        row["name"],
        int(row["version"]),
        row["model_sha256"],
        row["framework"],
        row["approval"],
        json.loads(row["metrics"]),
        row["run_id"],
        int(row["step_id"]),
    )
