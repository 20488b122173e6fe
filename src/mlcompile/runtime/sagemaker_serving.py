"""The inference handlers SageMaker's framework serving containers call for our models.

The scikit-learn container has no default ``model_fn`` (its ``default_model_fn`` raises): a
model is served only with a script named by ``SAGEMAKER_PROGRAM`` from the source tarball at
``SAGEMAKER_SUBMIT_DIRECTORY``, the environment the SageMaker SDK's ``SKLearnModel`` sets. The
XGBoost and PyTorch containers take the same script in their framework mode (the SDK's
``XGBoostModel`` and ``PyTorchModel``), so every framework is loaded by the record it was saved
with (:mod:`mlcompile.runtime.frameworks`); ``MLCOMPILE_FRAMEWORK`` on the model container is
the framework its image was chosen for, and a model saved with another one fails to load with
that said. The
code bundle carries this module and a top-level ``mlcompile_serving.py`` that re-exports it, so
endpoints and transform jobs read requests with the same contract as the embedded run
(:mod:`mlcompile.runtime.predict`): CSV with or without a header, JSON, JSON lines.
https://github.com/aws/sagemaker-scikit-learn-container/blob/master/src/sagemaker_sklearn_container/serving.py

Standard library only, Python 3.8+, like the rest of the step side.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlcompile.runtime import predict

#: The framework the model container's image serves, set in its environment.
FRAMEWORK_VARIABLE = "MLCOMPILE_FRAMEWORK"
#: The module SAGEMAKER_PROGRAM names, at the top of the code bundle.
PROGRAM = "mlcompile_serving.py"
SHIM = (
    "# SageMaker's serving container imports the module SAGEMAKER_PROGRAM names.\n"
    "from mlcompile.runtime.sagemaker_serving import input_fn, model_fn, output_fn, predict_fn\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n'
)


def model_fn(model_dir: str) -> Any:
    """The model in the model data, by its record (``Model.save``), else the pickled model:
    ``model.pkl``, a ``.pkl``/``.joblib`` file, or the one file there is."""
    return predict.load_model(Path(model_dir), os.environ.get(FRAMEWORK_VARIABLE, ""))


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
