"""One data contract for batch prediction and endpoints on every platform: CSV with a header or
without one, JSON lines; SageMaker's serving handlers read it the same way from the bundle."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression

from mlcompile.bundle import code_bundle
from mlcompile.loader import load
from mlcompile.runtime import predict

REPO = Path(__file__).resolve().parents[2]
ROWS = [
    {"tenure": 1, "monthly": 90.0, "churned": 1},
    {"tenure": 40, "monthly": 20.0, "churned": 0},
    {"tenure": 3, "monthly": 85.0, "churned": 1},
    {"tenure": 50, "monthly": 25.0, "churned": 0},
]


def _model(tmp_path: Path) -> Path:
    frame = pd.DataFrame(ROWS)
    fitted = LogisticRegression().fit(frame[["tenure", "monthly"]], frame["churned"])
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted))
    return path


def _data(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """The same rows in each accepted form; the labelled ones carry a column to drop."""
    header = "tenure,monthly,churned\n" + "".join(
        f"{r['tenure']},{r['monthly']},{r['churned']}\n" for r in ROWS
    )
    bare = "".join(f"{r['tenure']},{r['monthly']}\n" for r in ROWS)
    lines = "".join(json.dumps(r) + "\n" for r in ROWS)
    forms = {
        "header.csv": (header, "text/csv"),
        "bare.csv": (bare, "text/csv"),
        "rows.jsonl": (lines, "application/jsonlines"),
    }
    made = {}
    for name, (text, kind) in forms.items():
        (tmp_path / name).write_text(text)
        made[name] = (tmp_path / name, kind)
    return made


def test_csv_with_or_without_a_header_and_json_lines_predict_the_same(tmp_path: Path) -> None:
    model = _model(tmp_path)
    predictions = {}
    for name, (path, kind) in _data(tmp_path).items():
        out = tmp_path / f"{name}.out"
        assert predict.batch(model, path, out, kind) == len(ROWS)
        text = out.read_text()
        predictions[name] = (
            [json.loads(line)["prediction"] for line in text.splitlines()]
            if kind == "application/jsonlines"
            else text.splitlines()[1:]
        )
    assert predictions["header.csv"] == ["1", "0", "1", "0"]
    assert predictions["bare.csv"] == predictions["header.csv"]
    assert [str(p) for p in predictions["rows.jsonl"]] == predictions["header.csv"]


def test_sagemakers_handlers_come_from_the_bundle_and_read_the_same_contract(
    tmp_path: Path,
) -> None:
    """The serving container imports SAGEMAKER_PROGRAM from the source tarball: the handlers
    must load from the bundle alone and answer as the embedded run does."""
    pipeline = load(str(REPO / "examples/churn/pipeline.py")).build()
    bundle = tmp_path / "code"
    with tarfile.open(fileobj=io.BytesIO(code_bundle(pipeline).data)) as tar:
        tar.extractall(bundle, filter="data")
    model_dir = tmp_path / "opt-ml-model"
    model_dir.mkdir()
    _model(tmp_path).rename(model_dir / "model")  # a step's model file, named after its output
    serve = (
        "import sys; sys.path.insert(0, sys.argv[1]); import mlcompile_serving as h, mlcompile;"
        "assert mlcompile.__file__.startswith(sys.argv[1]), mlcompile.__file__;"
        "m = h.model_fn(sys.argv[2]);"
        "body, kind = h.output_fn(h.predict_fn(h.input_fn(open(sys.argv[3], 'rb').read(),"
        " 'text/csv'), m), 'text/csv'); print(kind); print(body, end='')"
    )
    for name, (path, _) in _data(tmp_path).items():
        if name.endswith(".csv"):
            done = subprocess.run(
                [sys.executable, "-c", serve, str(bundle), str(model_dir), str(path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp_path,
            )
            assert done.stdout == "text/csv\nprediction\n1\n0\n1\n0\n", name
