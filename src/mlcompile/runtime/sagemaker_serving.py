"""The inference handlers SageMaker's scikit-learn serving container calls for our models.

That container has no default ``model_fn`` (its ``default_model_fn`` raises): a model is served
only with a script named by ``SAGEMAKER_PROGRAM`` from the source tarball at
``SAGEMAKER_SUBMIT_DIRECTORY``, the environment the SageMaker SDK's ``SKLearnModel`` sets. The
code bundle carries this module and a top-level ``mlcompile_serving.py`` that re-exports it, so
endpoints and transform jobs read requests with the same contract as the embedded run
(:mod:`mlcompile.runtime.predict`): CSV with or without a header, JSON, JSON lines.
https://github.com/aws/sagemaker-scikit-learn-container/blob/master/src/sagemaker_sklearn_container/serving.py

Standard library only, Python 3.8+, like the rest of the step side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlcompile.runtime import predict

#: The module SAGEMAKER_PROGRAM names, at the top of the code bundle.
PROGRAM = "mlcompile_serving.py"
SHIM = (
    "# SageMaker's serving container imports the module SAGEMAKER_PROGRAM names.\n"
    "from mlcompile.runtime.sagemaker_serving import input_fn, model_fn, output_fn, predict_fn\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n'
)


def model_fn(model_dir: str) -> Any:
    """The pickled model in the model data: ``model.pkl``, a ``.pkl``/``.joblib`` file, or the
    one file there is (a step's model output is a file named after the output)."""
    files = sorted(p for p in Path(model_dir).rglob("*") if p.is_file())
    pickled = (
        [p for p in files if p.name == predict.MODEL_FILE]
        or [p for p in files if p.suffix in (".pkl", ".joblib")]
        or (files if len(files) == 1 else [])
    )
    if not pickled:
        raise FileNotFoundError(f"no pickled model under {model_dir}")
    return predict.load_model(pickled[0])


def input_fn(body: bytes | str, content_type: str) -> predict.Rows:
    """Rows from a request: CSV (a first line that is not all numbers is the header), a JSON
    document, or JSON lines."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    kind = content_type.split(";")[0].strip()
    if kind == "text/csv":
        return predict.parse_csv_rows(text)
    if kind in ("application/jsonlines", "application/x-jsonlines"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if kind == "application/json":
        return predict.parse_json(text)
    raise ValueError(f"content type {content_type!r}: send text/csv, JSON or JSON lines")


def predict_fn(rows: predict.Rows, model: Any) -> list[Any]:
    return predict.predict(model, rows)


def output_fn(predictions: list[Any], accept: str) -> tuple[str, str]:
    """One prediction per row, in the embedded run's format; the container makes the response
    from the (body, content type) pair."""
    kind = accept.split(";")[0].strip()
    kind = kind if kind in ("text/csv", "application/jsonlines") else "text/csv"
    return predict.format_predictions(predictions, kind), kind
