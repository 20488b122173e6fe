"""Models saved in their framework's own format with a record of the framework, and loaded back
by every loader with that framework: the predictions are the fitted object's own."""

from __future__ import annotations

import functools
import json
import pickle
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcompile.dsl.artifacts import Model
from mlcompile.local.serving import ModelServer
from mlcompile.runtime import frameworks, predict, sagemaker_serving

FRAME = pd.DataFrame(
    {"a": [float(i) for i in range(16)], "b": [float(i * 7 % 5) for i in range(16)]}
)
LABEL = [int((a + b) % 4 < 2) for a, b in zip(FRAME["a"], FRAME["b"], strict=True)]
#: The rows as a scoring file has them: a header, the features in another order, a label.
SCORED = "b,label,a\n" + "".join(
    f"{b},{y},{a}\n" for a, b, y in zip(FRAME["a"], FRAME["b"], LABEL, strict=True)
)
SETTINGS = {"min_child_samples": 2, "num_leaves": 4, "n_jobs": 1, "verbose": -1, "seed": 0}


NAMES = [
    "lightgbm-booster",
    "lightgbm-classifier",
    "sklearn",
    "xgboost-booster",
    "xgboost-classifier",
    "xgboost-regressor",
]


@functools.cache
def _fitted() -> dict[str, tuple[Any, str, Any]]:
    """Name -> (fitted object, its framework, what its own API predicts for FRAME); fitted when
    a test first asks, so collecting the suite imports no framework."""
    import lightgbm
    import xgboost
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(FRAME, LABEL)
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}
    booster = xgboost.train(params, xgboost.DMatrix(FRAME, label=LABEL), num_boost_round=4)
    classifier = xgboost.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1).fit(FRAME, LABEL)
    regressor = xgboost.XGBRegressor(n_estimators=4, max_depth=2, n_jobs=1).fit(FRAME, FRAME["a"])
    light = lightgbm.LGBMClassifier(n_estimators=4, **SETTINGS).fit(FRAME, LABEL)
    light_booster = lightgbm.train(
        {"objective": "binary", **SETTINGS}, lightgbm.Dataset(FRAME, label=LABEL), 4
    )
    return {
        "sklearn": (tree, "sklearn", tree.predict(FRAME)),
        "xgboost-booster": (booster, "xgboost", booster.predict(xgboost.DMatrix(FRAME))),
        "xgboost-classifier": (classifier, "xgboost", classifier.predict(FRAME)),
        "xgboost-regressor": (regressor, "xgboost", regressor.predict(FRAME)),
        "lightgbm-classifier": (light, "lightgbm", light.predict(FRAME)),
        "lightgbm-booster": (light_booster, "lightgbm", light_booster.predict(FRAME)),
    }


@pytest.mark.parametrize("name", NAMES)
def test_a_saved_model_predicts_what_the_fitted_one_does(name: str, tmp_path: Path) -> None:
    assert sorted(_fitted()) == NAMES
    fitted, framework, expected = _fitted()[name]
    artifact = Model(str(tmp_path / "model"))
    artifact.save(fitted)
    record = json.loads((tmp_path / "model" / frameworks.RECORD).read_text())
    assert record["framework"] == framework == artifact.metadata["framework"]
    assert record["framework_version"] == artifact.metadata["framework_version"] != ""
    assert (tmp_path / "model" / record["file"]).is_file()
    assert record["file"] == {"sklearn": "model.pkl"}.get(framework, "model.bst")
    if framework != "sklearn":  # the framework's own format, not a pickle
        with pytest.raises(pickle.UnpicklingError):
            pickle.loads((tmp_path / "model" / record["file"]).read_bytes())
    # Rows by name, in another order and with a label column, as a scoring file has them.
    data, out = tmp_path / "rows.csv", tmp_path / "out.csv"
    data.write_text(SCORED)
    assert predict.batch(Path(artifact.path), data, out, "text/csv") == len(FRAME)
    got = [float(v) for v in out.read_text().splitlines()[1:]]
    assert got == pytest.approx([float(v) for v in expected], abs=1e-6)
    # Rows without names hold the features in training order.
    bare = predict.predict(artifact.load(), FRAME.to_numpy().tolist())
    assert bare == pytest.approx([float(v) for v in expected], abs=1e-6)


def test_sagemakers_handlers_load_by_the_record_and_refuse_another_framework(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted, _, expected = _fitted()["xgboost-booster"]
    # SageMaker unpacks the model data under /opt/ml/model, nested as the step wrote it.
    Model(str(tmp_path / "opt" / "model")).save(fitted)
    monkeypatch.setenv(sagemaker_serving.FRAMEWORK_VARIABLE, "xgboost")
    model = sagemaker_serving.model_fn(str(tmp_path / "opt"))
    rows = sagemaker_serving.input_fn(SCORED.encode(), "text/csv")
    body, kind = sagemaker_serving.output_fn(sagemaker_serving.predict_fn(rows, model), "text/csv")
    assert kind == "text/csv"
    assert [float(v) for v in body.splitlines()[1:]] == pytest.approx(list(expected), abs=1e-6)
    monkeypatch.setenv(sagemaker_serving.FRAMEWORK_VARIABLE, "sklearn")
    with pytest.raises(frameworks.ModelFormatError, match="saved with xgboost but is served as"):
        sagemaker_serving.model_fn(str(tmp_path / "opt"))


def test_a_registration_names_the_framework_the_model_was_saved_with(tmp_path: Path) -> None:
    Model(str(tmp_path / "model")).save(_fitted()["lightgbm-classifier"][0])
    frameworks.check_registered(tmp_path / "model", "lightgbm")
    frameworks.check_registered(tmp_path / "model", "custom")  # the user's own image
    frameworks.check_registered(tmp_path / "model", "sklearn", serving_image="ecr/own:1")
    with pytest.raises(frameworks.ModelFormatError, match="framework='lightgbm'"):
        frameworks.check_registered(tmp_path / "model", "xgboost")


def test_a_pickle_without_a_record_loads_as_before(tmp_path: Path) -> None:
    tree, _, expected = _fitted()["sklearn"]
    file = tmp_path / "model"
    file.write_bytes(pickle.dumps(tree))
    assert list(predict.predict(predict.load_model(file), FRAME.to_numpy().tolist())) == list(
        expected
    )
    folder = tmp_path / "registered"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(tree))
    assert frameworks.find(folder) == (
        folder / "model.pkl",
        {"framework": "sklearn", "file": "model.pkl"},
    )
    frameworks.check_registered(folder, "xgboost")  # no record: nothing to hold it to


def test_the_local_endpoint_serves_a_saved_booster(tmp_path: Path) -> None:
    import threading
    import urllib.request

    from mlcompile.local.registry import Endpoint

    fitted, _, expected = _fitted()["xgboost-booster"]
    Model(str(tmp_path / "model")).save(fitted)
    endpoint = Endpoint("boost", "booster", 1, "0" * 64, "")
    server = ModelServer(0, endpoint, tmp_path / "model")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(
            server.url + "/predict",
            data=SCORED.encode(),
            headers={"Content-Type": "text/csv"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
    finally:
        server.shutdown()
        server.server_close()
    assert body["predictions"] == pytest.approx(list(expected), abs=1e-6)


class _StandInTorch(types.ModuleType):
    """A stand-in for torch (not installed here: it is large): ``jit.save``/``jit.load`` of a
    module object, ``tensor``, ``no_grad``. It checks what the loader asks of TorchScript
    (CPU mapping, eval mode, float32 rows, one output per row), not torch itself."""

    float32 = "float32"

    def __init__(self) -> None:
        super().__init__("torch")
        self.saved: dict[str, Any] = {}
        self.jit = types.SimpleNamespace(
            ScriptModule=_Linear, script=self._script, save=self._save, load=self._load
        )

    def _script(self, module: Any) -> Any:
        return module

    def _save(self, module: Any, path: str) -> None:
        Path(path).write_bytes(b"TorchScript stand-in")
        self.saved[path] = module

    def _load(self, path: str, map_location: str) -> Any:
        assert map_location == "cpu"
        return self.saved[path]

    def tensor(self, values: Any, dtype: str) -> Any:
        assert dtype == "float32"
        return np.asarray(values, dtype=np.float32)

    def no_grad(self) -> Any:
        import contextlib

        return contextlib.nullcontext()


class _Linear:
    """y = 2a + b, as a (rows, 1) column, the shape a regression module returns."""

    __module__ = "torch.nn.modules.linear"

    def __init__(self) -> None:
        self.evaluating = False

    def eval(self) -> None:
        self.evaluating = True

    def __call__(self, x: Any) -> Any:
        assert self.evaluating
        return np.asarray(x) @ np.array([[2.0], [1.0]], dtype=np.float32)


def test_torchscript_is_saved_and_loaded_through_torch_jit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = _StandInTorch()
    monkeypatch.setitem(sys.modules, "torch", torch)
    artifact = Model(str(tmp_path / "model"))
    artifact.save(_Linear(), feature_names=["a", "b"])
    record = json.loads((tmp_path / "model" / frameworks.RECORD).read_text())
    assert record["framework"] == "pytorch" and record["file"] == "model.pt"
    assert record["feature_names"] == ["a", "b"]
    data, out = tmp_path / "rows.csv", tmp_path / "out.csv"
    data.write_text(SCORED)  # b first, and a label: matched to the recorded names
    predict.batch(Path(artifact.path), data, out, "text/csv")
    expected = [2 * a + b for a, b in zip(FRAME["a"], FRAME["b"], strict=True)]
    assert [float(v) for v in out.read_text().splitlines()[1:]] == expected


MISREGISTERED = """
from mlcompile import Model, Output, pipeline, register_model, step


@step
def fit(model: Output[Model]) -> None:
    model.save({"weights": [1.0, 2.0]})  # any picklable model is saved as a pickle


@pipeline
def misregistered() -> None:
    register_model(fit().model, name="weights", framework="xgboost")
"""


@pytest.mark.parametrize("target", ["", "kubeflow-dev"])
def test_a_model_registered_as_another_framework_fails_its_registration(
    target: str, tmp_path: Path
) -> None:
    """Embedded, and in Kubeflow's registration step: the serving image the registration
    chooses could not load the model, so the run says so instead of registering it."""
    from tests.emulate.test_kfp_ir import _cli

    source = tmp_path / "misregistered.py"
    source.write_text(MISREGISTERED)
    args = ["run", str(source), "--store", str(tmp_path / "store")]
    result = _cli(*args, *(["-t", target] if target else []))
    assert result["status"] == "failed", result
    (step,) = [s for s in result["steps"] if s["status"] == "failed"]
    if not target:  # the emulator's message is the step's exit; its log has the reason
        assert "saved with sklearn but registered as xgboost" in step["message"], step
        assert "framework='sklearn'" in step["message"], step
    else:
        logs = "".join(p.read_text() for p in (tmp_path / "store").rglob("*.log"))
        assert "saved with sklearn but registered as xgboost" in logs
