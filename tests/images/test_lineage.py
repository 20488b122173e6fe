"""A step that ran in an image keeps that image's digest in the run's lineage, also in a store
made before the column existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mlcompile.local.lineage import LineageDB, describe_step

IMAGE = "127.0.0.1:5000/mlc-dev-steps@sha256:" + "ef" * 32


def _start(db: LineageDB, image: str | None) -> int:
    if db.run("run-1") is None:
        db.start_run("run-1", "p", "p.py", ".", "irhash", {})
    return db.start_step(
        "run-1", "train", "train", "train", "function", "c0de", {}, {}, None, image
    )


def test_digest_recorded_and_described(tmp_path: Path) -> None:
    db = LineageDB(tmp_path / "lineage.db")
    in_image = _start(db, IMAGE)
    on_host = _start(db, None)
    step = db.step(in_image)
    assert step is not None and describe_step(db, step)["image"] == IMAGE
    host = db.step(on_host)
    assert host is not None and "image" not in describe_step(db, host)


def test_older_store_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "lineage.db"
    LineageDB(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE steps DROP COLUMN image")
    db = LineageDB(path)
    step = db.step(_start(db, IMAGE))
    assert step is not None and step["image"] == IMAGE
