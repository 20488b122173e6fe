"""A model in its framework's own format, with a record of which framework wrote it.

``Model.save(obj)`` writes a folder at the artifact's path: the model file the framework's
serving containers read, and ``mlcompile-model.info`` (JSON) naming the framework, its version, the
file and how to load it. Every loader (the embedded run, the emulators, Kubeflow's batch step,
SageMaker's serving handlers) reads the record and loads with that framework:

=========== ============ ==============================================================
framework   file         written with / read with
=========== ============ ==============================================================
sklearn     model.pkl    pickle (scikit-learn estimators, pipelines, any picklable model)
xgboost     model.bst    ``save_model`` (UBJSON) of a Booster or a scikit-learn-API model
lightgbm    model.bst    ``save_model`` (LightGBM's text format) of a Booster or a
                         scikit-learn-API model's booster
pytorch     model.pt     ``torch.jit.save`` (TorchScript); a plain ``nn.Module`` is scripted
=========== ============ ==============================================================

The file names are those the platforms' prebuilt servers look for: ``model.pkl`` (Vertex's and
KServe's scikit-learn images), ``model.bst`` (Vertex's XGBoost, KServe's XGBoost and LightGBM),
``model.pt`` (SageMaker's PyTorch image). https://cloud.google.com/vertex-ai/docs/training/exporting-model-artifacts
https://kserve.github.io/website/latest/modelserving/v1beta1/lightgbm/

Standard library only at import: a framework is imported when a model of it is saved or loaded.
A folder without a record, or a bare file, is a pickle, as models were before the record.
"""

from __future__ import annotations

import importlib
import json
import pickle
from pathlib import Path
from typing import Any

#: The record beside the model file. JSON, but not named ``.json``: KServe's XGBoost server
#: takes every ``.bst``/``.json``/``.ubj`` file in the folder for a model and refuses two.
RECORD = "mlcompile-model.info"
#: The file a pickled model is written to (and the one a folder without a record holds).
PICKLE_FILE = "model.pkl"
FILES = {
    "sklearn": PICKLE_FILE,
    "xgboost": "model.bst",
    "lightgbm": "model.bst",
    "pytorch": "model.pt",
}
FRAMEWORKS = tuple(FILES)


class ModelFormatError(Exception):
    """The folder holds no model this module can load, or the record names an unknown one."""


def framework_of(model: Any) -> str:
    """The framework of a fitted model object, from the module its class comes from."""
    for cls in type(model).__mro__:
        root = (getattr(cls, "__module__", "") or "").split(".")[0]
        if root == "xgboost":
            return "xgboost"
        if root == "lightgbm":
            return "lightgbm"
        if root == "torch":
            return "pytorch"
    return "sklearn"


def save(
    model: Any,
    folder: str,
    framework: str | None = None,
    feature_names: list[str] | None = None,
) -> dict[str, Any]:
    """Write ``model`` and its record into ``folder`` (created); returns the record.
    ``feature_names`` are the columns the model reads, in order, for a model that does not
    know them itself (a TorchScript module); rows are then matched to them by name."""
    framework = framework or framework_of(model)
    if framework not in FILES:
        raise ModelFormatError(
            f"framework {framework!r} is not one Model.save writes; use one of {', '.join(FRAMEWORKS)}"
        )
    target = Path(folder)
    if target.is_file():
        target.unlink()
    target.mkdir(parents=True, exist_ok=True)
    file = target / FILES[framework]
    record: dict[str, Any] = {"framework": framework, "file": file.name, "format": 1}
    record.update(_WRITERS[framework](model, file))
    if feature_names is not None:
        record["feature_names"] = [str(n) for n in feature_names]
    (target / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", "utf-8")
    return record


def find(path: Path) -> tuple[Path, dict[str, Any]]:
    """The model file under ``path`` and its record (``{"framework": "sklearn"}`` for a pickle
    without one): a file is itself; a folder has a record, ``model.pkl``, a ``.pkl``/``.joblib``
    file, or one file only (a platform may nest the folder, so it is searched)."""
    if path.is_file():
        beside = path.parent / RECORD
        if beside.is_file() and path.name != RECORD:
            record = _read_record(beside)
            if record.get("file") == path.name:
                return path, record
        return path, _PICKLE
    records = sorted(path.rglob(RECORD), key=lambda p: (len(p.parts), str(p)))
    if records:
        return records[0].parent / str(_read_record(records[0])["file"]), _read_record(records[0])
    files = sorted(p for p in path.rglob("*") if p.is_file())
    pickled = (
        [p for p in files if p.name == PICKLE_FILE]
        or [p for p in files if p.suffix in (".pkl", ".joblib")]
        or (files if len(files) == 1 else [])
    )
    if not pickled:
        raise ModelFormatError(f"no model under {path}: no {RECORD}, and no pickled model file")
    return pickled[0], _PICKLE


def _read_record(file: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    if record.get("framework") not in FILES or not record.get("file"):
        raise ModelFormatError(f"{file} names framework {record.get('framework')!r}")
    return record


def load(path: Path, expected: str = "") -> Any:
    """The model at ``path`` (a model folder or file), loaded with its framework. The object has
    ``predict(table)`` and, when the model knows them, ``feature_names_in_``. ``expected`` (the
    framework a serving container was chosen for) must match the record, when there is one."""
    file, record = find(path)
    framework = str(record["framework"])
    if expected and record is not _PICKLE and expected != framework:
        raise ModelFormatError(
            f"the model was saved with {framework} but is served as {expected}: register it "
            f"with framework={framework!r}"
        )
    return _READERS[framework](file, record)


_PICKLE: dict[str, Any] = {"framework": "sklearn", "file": PICKLE_FILE}


def check_registered(path: Path, framework: str, serving_image: str = "") -> None:
    """A model registered as ``framework`` was saved with it, so the serving image chosen from
    the registration can load it. A model without a record, one registered as another kind
    (``custom``, ``tensorflow``) or with its own serving image is not checked."""
    if serving_image or framework not in FILES or not path.exists():
        return
    _, record = find(path)
    if record is not _PICKLE and record["framework"] != framework:
        raise ModelFormatError(
            f"the model was saved with {record['framework']} but registered as {framework}, "
            f"whose serving image cannot load it: register_model(..., "
            f"framework={record['framework']!r})"
        )


def _version(module: Any) -> str:
    return str(getattr(module, "__version__", ""))


def _names(values: Any) -> list[str] | None:
    return [str(n) for n in values] if values is not None and len(values) else None


# ----- scikit-learn (and any picklable model) ----------------------------------------------------


def _write_pickle(model: Any, file: Path) -> dict[str, Any]:
    with file.open("wb") as f:
        pickle.dump(model, f)
    root = (type(model).__module__ or "").split(".")[0]
    version = _version(importlib.import_module("sklearn")) if root == "sklearn" else ""
    return {"framework_version": version, "class": _class_name(model)}


def _read_pickle(file: Path, record: dict[str, Any]) -> Any:
    """Unpickle a model. Only models this store produced are loaded: unpickling runs code."""
    with file.open("rb") as f:
        return pickle.load(f)


def _class_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


# ----- XGBoost --------------------------------------------------------------------------------------


def _write_xgboost(model: Any, file: Path) -> dict[str, Any]:
    xgboost: Any = importlib.import_module("xgboost")
    booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
    with xgboost.config_context(verbosity=0):  # a .bst name is UBJSON, said as a warning
        model.save_model(str(file))
    return {
        "framework_version": _version(xgboost),
        "api": "booster" if model is booster else "sklearn",
        "class": "xgboost.Booster" if model is booster else _class_name(model),
        "feature_names": _names(booster.feature_names),
    }


class _Booster:
    """A framework's booster behind the ``predict(table)`` every loader calls."""

    def __init__(self, predict: Any, feature_names: list[str] | None) -> None:
        self._predict = predict
        if feature_names:
            self.feature_names_in_ = feature_names

    def predict(self, table: Any) -> Any:
        return self._predict(table)


def _read_xgboost(file: Path, record: dict[str, Any]) -> Any:
    xgboost: Any = importlib.import_module("xgboost")
    with xgboost.config_context(verbosity=0):
        if record.get("api") == "sklearn":
            module, _, name = str(record["class"]).rpartition(".")
            model = getattr(importlib.import_module(module or "xgboost"), name)()
            model.load_model(str(file))
            return model
        booster = xgboost.Booster()
        booster.load_model(str(file))
    names = record.get("feature_names")
    return _Booster(lambda table: booster.predict(_dmatrix(xgboost, table, names)), names)


def _dmatrix(xgboost: Any, table: Any, names: list[str] | None) -> Any:
    if hasattr(table, "columns"):
        return xgboost.DMatrix(table)
    numpy: Any = importlib.import_module("numpy")
    return xgboost.DMatrix(numpy.asarray(table, dtype=float), feature_names=names)


# ----- LightGBM -------------------------------------------------------------------------------------


def _write_lightgbm(model: Any, file: Path) -> dict[str, Any]:
    lightgbm: Any = importlib.import_module("lightgbm")
    sklearn_api = not isinstance(model, lightgbm.Booster)
    booster = model.booster_ if sklearn_api else model
    booster.save_model(str(file))
    names = [str(n) for n in booster.feature_name()]
    record: dict[str, Any] = {
        "framework_version": _version(lightgbm),
        "api": "sklearn" if sklearn_api else "booster",
        "class": _class_name(model),
        # LightGBM names unnamed features Column_<i>; those are positions, not names.
        "feature_names": None if names == [f"Column_{i}" for i in range(len(names))] else names,
    }
    classes = getattr(model, "classes_", None) if sklearn_api else None
    if classes is not None:
        record["classes"] = [_plain(c) for c in classes]
    return record


def _read_lightgbm(file: Path, record: dict[str, Any]) -> Any:
    lightgbm: Any = importlib.import_module("lightgbm")
    booster = lightgbm.Booster(model_file=str(file))
    classes = record.get("classes")
    if not classes:
        return _Booster(booster.predict, record.get("feature_names"))

    def labels(table: Any) -> list[Any]:
        # What the scikit-learn API's predict returns: the most probable class, where the
        # booster gives P(class 1) for two classes and one probability per class otherwise.
        scores = booster.predict(table)
        if len(classes) == 2:
            return [classes[1] if float(p) > 0.5 else classes[0] for p in scores]
        return [classes[max(range(len(row)), key=lambda i: row[i])] for row in scores]

    return _Booster(labels, record.get("feature_names"))


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# ----- PyTorch (TorchScript) ------------------------------------------------------------------------


def _write_torch(model: Any, file: Path) -> dict[str, Any]:
    torch: Any = importlib.import_module("torch")
    scripted = model if isinstance(model, torch.jit.ScriptModule) else torch.jit.script(model)
    torch.jit.save(scripted, str(file))
    return {"framework_version": _version(torch), "class": _class_name(model)}


def _read_torch(file: Path, record: dict[str, Any]) -> Any:
    torch: Any = importlib.import_module("torch")
    module = torch.jit.load(str(file), map_location="cpu")
    module.eval()

    def forward(table: Any) -> list[Any]:
        values = table.to_numpy().tolist() if hasattr(table, "to_numpy") else table
        with torch.no_grad():
            result = module(torch.tensor(values, dtype=torch.float32)).tolist()
        # One output per row: a column of single values is that value.
        return [r[0] if isinstance(r, list) and len(r) == 1 else r for r in result]

    return _Booster(forward, record.get("feature_names"))


_WRITERS = {
    "sklearn": _write_pickle,
    "xgboost": _write_xgboost,
    "lightgbm": _write_lightgbm,
    "pytorch": _write_torch,
}
_READERS = {
    "sklearn": _read_pickle,
    "xgboost": _read_xgboost,
    "lightgbm": _read_lightgbm,
    "pytorch": _read_torch,
}

__all__ = [
    "FRAMEWORKS",
    "RECORD",
    "ModelFormatError",
    "check_registered",
    "find",
    "framework_of",
    "load",
    "save",
]
