"""Predictions from a saved model: the one contract of batch_predict and of endpoints, on
every platform (the embedded run, Kubeflow's step, Vertex's staged instances, SageMaker's
serving handlers all read data through it).

Rows come as CSV, with a header or without one (a first line that is not all numbers is the
header), as JSON objects or JSON lists, one per line or in one document. A scikit-learn model
fitted on a DataFrame knows its feature names, so named columns it was not trained on (a label,
an id) are dropped and the rest are put in training order; rows without names must hold the
features in training order. Predictions are written one per row: CSV under a ``prediction``
header, or JSON lines ``{"prediction": ...}``. The model is loaded with the framework it was
saved with (:mod:`mlcompile.runtime.frameworks`); a model that knows no feature names of its
own takes them from its record.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Union

from mlcompile.runtime import frameworks

Rows = Union[List[Dict[str, Any]], List[List[Any]]]
#: The file a pickled model is written to, in a model folder.
MODEL_FILE = frameworks.PICKLE_FILE


class PredictionError(Exception):
    """The rows do not fit the model; the message says which columns or shapes are wrong."""


def load_model(path: Path, framework: str = "") -> Any:
    """The model in a model folder or file, loaded with the framework its record names (a
    pickle without one). Only models this store produced are loaded: unpickling runs code.
    ``framework``, when given, is what the model is served as, and must be what saved it."""
    return frameworks.load(path, framework)


def parse_csv(text: str) -> list[dict[str, Any]]:
    return [
        {k: _number(v) for k, v in row.items() if k is not None}
        for row in csv.DictReader(io.StringIO(text))
    ]


def parse_csv_rows(text: str) -> Rows:
    """CSV rows by column name when the first line is a header, else as lists of values."""
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        return []
    if all(isinstance(_number(v), (int, float)) for v in lines[0]):
        return [[_number(v) for v in line] for line in lines if line]
    return parse_csv(text)


def format_predictions(predictions: list[Any], content_type: str) -> str:
    if content_type in ("application/jsonlines", "application/x-jsonlines"):
        return "".join(json.dumps({"prediction": p}) + "\n" for p in predictions)
    return "prediction\n" + "".join(f"{p}\n" for p in predictions)


def parse_json(text: str) -> Rows:
    """``[{...}, ...]``, ``[[...], ...]``, or an object with ``instances`` or ``rows``."""
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("instances", data.get("rows"))
    if not isinstance(data, list) or not all(isinstance(r, (dict, list)) for r in data):
        raise PredictionError(
            'send a JSON list of rows (objects or lists), or {"instances": [...]}'
        )
    return data


def predict(model: Any, rows: Rows) -> list[Any]:
    if not rows:
        return []
    names = getattr(model, "feature_names_in_", None)
    table: Any
    if isinstance(rows[0], dict):
        dict_rows = [r for r in rows if isinstance(r, dict)]
        columns = [str(n) for n in names] if names is not None else list(dict_rows[0])
        missing = [c for c in columns if c not in dict_rows[0]]
        if missing:
            raise PredictionError(f"rows lack the model's feature columns {missing}")
        values = [[r.get(c) for c in columns] for r in dict_rows]
        table = _frame(values, columns) if names is not None else values
    else:
        table = _frame(rows, [str(n) for n in names]) if names is not None else rows
    try:
        result = model.predict(table)
    except ValueError as exc:
        raise PredictionError(f"the model rejected the rows: {exc}") from None
    return [_plain(v) for v in result]


def _frame(values: Any, columns: list[str]) -> Any:
    """A DataFrame when pandas is there (the model was fitted on one), else the plain rows."""
    try:
        pandas: Any = importlib.import_module("pandas")
    except ImportError:
        return values
    return pandas.DataFrame(values, columns=columns)


def batch(model_path: Path, data_path: Path, out_path: Path, content_type: str) -> int:
    """Predict every row of a CSV or JSON-lines file with the model in ``model_path`` (a model
    folder or file); writes one prediction per row."""
    model = load_model(model_path)
    text = data_path.read_text(encoding="utf-8")
    if content_type == "application/jsonlines":
        rows: Rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        rows = parse_csv_rows(text)
    predictions = predict(model, rows)
    out_path.write_text(format_predictions(predictions, content_type), encoding="utf-8")
    return len(predictions)


def _number(text: str | None) -> Any:
    if text is None:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers, so predictions serialise as JSON."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
