"""The Monitor declaration: carried in the IR, its baseline resolved, every mistake located."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.ir.canonical import canonical_json
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.platforms import get as get_platform
from tests.conftest import build_example, profile
from tests.core.helpers import build, errors, line_of

PIPELINE = """
@step
def make(seed: int, data: Output[Dataset]) -> None:
    pass

@step
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    pass

@pipeline
def p(seed: int = 1, approval: str = "PendingManualApproval") -> None:
    raw = make(seed=seed)  # every parameter is read by a step: no MLC121
    fitted = fit(data=raw.data)
    registered = register_model(fitted.model, name="m", approval=approval)
    deploy_model(
        registered.registered_model,
        endpoint="m",
        monitor=Monitor(  # <-
            {monitor}
        ),
    )
"""


def _source(monitor: str) -> str:
    return PIPELINE.replace("{monitor}", monitor)


def test_baseline_defaults_to_the_training_data(tmp_path: Path) -> None:
    source = _source(
        'features={"x": "number", "c": "category"}, on_drift=Retrain(params={"seed": 2})'
    )
    (found,) = monitored_endpoints(build(tmp_path, source))
    assert (found.baseline.task, found.baseline.output) == ("make", "data")  # type: ignore[union-attr]
    assert found.monitor.location.line == line_of(source, "# <-")
    assert found.retrain_params() == {"seed": 2}
    assert found.spec()["statistics"] == {
        "category": ["chi2", "missing"],
        "number": ["psi", "ks", "missing"],
    }


def test_retrain_approval_goes_to_the_register_parameter(tmp_path: Path) -> None:
    source = _source('features={"x": "number"}, on_drift=Retrain(approval="Approved")')
    (found,) = monitored_endpoints(build(tmp_path, source))
    assert found.retrain_params() == {"approval": "Approved"}


@pytest.mark.parametrize(
    ("monitor", "code", "text"),
    [
        ('features={"x": "numeric"}', "MLC130", "kind 'numeric', which is not known"),
        ("features={}", "MLC130", "non-empty dict"),
        ('features={"x": "number"}, statistics={"number": ["chi2"]}', "MLC131", "not all known"),
        ('features={"x": "number"}, thresholds={"psi": -1}', "MLC132", "out of range"),
        ('features={"x": "number"}, thresholds={"kl": 0.1}', "MLC132", "not a statistic"),
        ('features={"x": "number"}, thresholds={"chi2": 1.5}', "MLC132", "out of range"),
        ('features={"x": "number"}, schedule="every hour"', "MLC133", "not a cron expression"),
        ('features={"x": "number"}, baseline="s3://data"', "MLC134", "not a Dataset output"),
        ('features={"x": "number"}, on_drift="retrain"', "MLC135", "not an action"),
        (
            'features={"x": "number"}, on_drift=Retrain(params={"rows": 5})',
            "MLC136",
            "'rows', which is not a parameter",
        ),
        (
            'features={"x": "number"}, on_drift=Retrain(params={"seed": "two"})',
            "MLC136",
            "the parameter is int",
        ),
    ],
)
def test_mistakes_are_located_diagnostics(
    tmp_path: Path, monitor: str, code: str, text: str
) -> None:
    source = _source(monitor)
    diags = errors(tmp_path, source)
    assert [d.code for d in diags] == [code], [str(d) for d in diags]
    (diag,) = diags
    assert text in diag.message and diag.hint
    assert diag.location is not None and diag.location.line == line_of(source, "# <-")


def test_approval_needs_a_parameter_to_apply_to(tmp_path: Path) -> None:
    source = _source('features={"x": "number"}, on_drift=Retrain(approval="Approved")').replace(
        "approval=approval)", 'approval="PendingManualApproval")'
    )
    # Nothing reads the approval parameter now, so MLC121 warns of it too; only MLC137 refuses.
    diags = errors(tmp_path, source)
    assert [d.code for d in diags if d.severity == "error"] == ["MLC137"], [str(d) for d in diags]


def test_pipelines_without_monitors_keep_their_canonical_json() -> None:
    pipeline = build_example("minimal")
    assert '"monitor"' not in canonical_json(pipeline)
    churn = canonical_json(build_example("churn"))
    assert churn.count('"monitor":') == 1


def test_sagemaker_and_vertex_refuse_schedules_off_the_hour(tmp_path: Path) -> None:
    source = _source('features={"x": "number"}, schedule="30 * * * *"')
    pipeline = build(tmp_path, source)
    for name in ("sagemaker-dev", "vertex-dev"):
        prof = profile(name)
        diags = get_platform(prof.platform).check(pipeline, prof)
        refused = [d for d in diags if d.code == "MLC450"]
        assert len(refused) == 1, [str(d) for d in diags]
        assert refused[0].location is not None
        assert refused[0].location.line == line_of(source, "# <-")
    kubeflow = get_platform("kubeflow").check(pipeline, profile("kubeflow-dev"))
    assert not [d for d in kubeflow if d.code == "MLC450"]
