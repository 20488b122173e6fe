"""Statistical monitoring of a deployed endpoint, declared on ``deploy_model(monitor=...)``.

``Monitor`` says which features of the requests to compare with which baseline, by which
statistics and thresholds, how often, and what to do on drift: ``Alert()`` the stack's alert
channel, or ``Retrain(params=..., approval=...)`` to run the pipeline again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlcompile.dsl._ir import ir
from mlcompile.dsl.location import RawLocation, caller_location
from mlcompile.dsl.values import DslUsageError, OutputHandle, TaskHandle

if TYPE_CHECKING:
    from mlcompile.dsl.trace import Trace

FEATURE_KINDS = ("number", "category")
#: The statistics each kind of feature can be compared with, and those used by default.
STATISTICS: dict[str, tuple[str, ...]] = {
    "number": ("psi", "ks", "missing"),
    "category": ("psi", "chi2", "missing"),
}
DEFAULT_STATISTICS: dict[str, tuple[str, ...]] = {
    "number": ("psi", "ks", "missing"),
    "category": ("chi2", "missing"),
}
#: Default thresholds: PSI and KS distance above, chi-squared p-value below, missing rate above.
DEFAULT_THRESHOLDS: dict[str, float] = {"psi": 0.2, "ks": 0.1, "chi2": 0.05, "missing": 0.05}
_THRESHOLD_RANGES: dict[str, tuple[float, float, str]] = {
    "psi": (0.0, math.inf, "a PSI above 0, e.g. 0.2"),
    "ks": (0.0, 1.0, "a Kolmogorov-Smirnov distance in (0, 1], e.g. 0.1"),
    "chi2": (0.0, 1.0, "a significance level in (0, 1), e.g. 0.05"),
    "missing": (0.0, 1.0, "a missing-value rate in (0, 1], e.g. 0.05"),
}
_APPROVALS = ("Approved", "PendingManualApproval", "Rejected")


class Alert:
    """On drift, notify the alert channel of the stack; nothing is retrained."""

    def __init__(self) -> None:
        self.location = caller_location()


class Retrain:
    """On drift, run the pipeline again with ``params`` (names of its parameters) and register
    the new model with ``approval``: ``"Approved"`` deploys it, ``"PendingManualApproval"``
    waits for a person (the pipeline's register_model must take its approval from a parameter).
    """

    def __init__(self, params: dict[str, Any] | None = None, approval: str | None = None) -> None:
        self.params = dict(params or {})
        self.approval = approval
        self.location = caller_location()


class Monitor:
    """Compare what an endpoint receives with a baseline data set, on a cron ``schedule``.

    ``features`` maps a request column to its kind, ``"number"`` or ``"category"``.
    ``baseline`` is a Dataset output; by default the one the deployed model was trained on.
    ``statistics`` maps a kind to the statistics to compute (numbers: psi, ks, missing;
    categories: psi, chi2, missing); ``thresholds`` maps a statistic to the value that is
    drift. ``schema=True`` also reports columns that appeared, disappeared or changed type.
    """

    def __init__(
        self,
        features: dict[str, str],
        *,
        baseline: Any = None,
        statistics: dict[str, list[str] | tuple[str, ...]] | None = None,
        thresholds: dict[str, float] | None = None,
        schema: bool = True,
        schedule: str = "0 * * * *",
        on_drift: Alert | Retrain | None = None,
    ) -> None:
        self.features = features
        self.baseline = baseline
        self.statistics = statistics
        self.thresholds = thresholds
        self.schema = schema
        self.schedule = schedule
        self.on_drift = on_drift if on_drift is not None else Alert()
        self.location = caller_location()


def monitor_ir(monitor: object, endpoint: str, trace: Trace) -> ir.Monitor | None:
    """The IR of a declaration; each problem in it is reported, located, to the trace."""
    from mlcompile.dsl.pipeline import cron_problem

    if not isinstance(monitor, Monitor):
        raise DslUsageError(
            "MLC130",
            f"deploy_model(monitor={monitor!r}) is not a Monitor",
            "pass monitor=Monitor(features={...}, ...)",
        )
    failed: list[str] = []
    where = monitor.location
    intro = f"deploy_model(endpoint={endpoint!r}) monitor"

    def problem(code: str, message: str, hint: str, at: RawLocation = where) -> None:
        failed.append(code)
        trace.error(code, f"{intro}: {message}", at, hint, step=None)

    features: list[ir.MonitoredFeature] = []
    if not isinstance(monitor.features, dict) or not monitor.features:
        problem(
            "MLC130",
            "features must be a non-empty dict of column name to kind",
            'e.g. features={"tenure": "number", "contract": "category"}',
        )
    else:
        for name, kind in monitor.features.items():
            if not isinstance(name, str) or not name:
                problem("MLC130", f"feature name {name!r} is not a column name", "use a str")
            elif kind not in FEATURE_KINDS:
                problem(
                    "MLC130",
                    f"feature {name!r} has kind {kind!r}, which is not known",
                    f"use one of {', '.join(FEATURE_KINDS)}",
                )
            else:
                features.append(ir.MonitoredFeature(name=name, kind=kind))

    statistics = dict(DEFAULT_STATISTICS)
    for kind, chosen in (monitor.statistics or {}).items():
        if kind not in STATISTICS:
            problem("MLC130", f"statistics for kind {kind!r}", f"use {', '.join(FEATURE_KINDS)}")
            continue
        names = tuple(chosen) if isinstance(chosen, (list, tuple)) else ()
        bad = [s for s in names if s not in STATISTICS[kind]]
        if bad or not names:
            problem(
                "MLC131",
                f"statistics {list(names) or chosen!r} for {kind} features are not all known",
                f"for {kind} features use some of {', '.join(STATISTICS[kind])}",
            )
            continue
        statistics[kind] = tuple(dict.fromkeys(names))

    thresholds = dict(DEFAULT_THRESHOLDS)
    for stat, value in (monitor.thresholds or {}).items():
        if stat not in _THRESHOLD_RANGES:
            problem(
                "MLC132",
                f"threshold for {stat!r}, which is not a statistic",
                f"give thresholds for {', '.join(_THRESHOLD_RANGES)}",
            )
            continue
        low, high, example = _THRESHOLD_RANGES[stat]
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if number is None or not (low < number <= high) or (stat == "chi2" and number >= 1):
            problem("MLC132", f"threshold {stat}={value!r} is out of range", f"give {example}")
            continue
        thresholds[stat] = float(number)

    cron_error = (
        cron_problem(monitor.schedule) if isinstance(monitor.schedule, str) else "not a str"
    )
    if cron_error:
        problem(
            "MLC133",
            f"schedule {monitor.schedule!r} is not a cron expression: {cron_error}",
            'use five fields: minute hour day-of-month month day-of-week, e.g. "0 * * * *"',
        )

    baseline: ir.OutputRef | None = None
    given = monitor.baseline
    if isinstance(given, TaskHandle):
        given = given.outputs.get("data") or (given.output if len(given.outputs) == 1 else given)
    if isinstance(given, OutputHandle) and given.type == "Dataset":
        baseline = ir.OutputRef(task=given.task.name, output=given.output)
    elif given is not None:
        problem(
            "MLC134",
            f"baseline {given!r} is not a Dataset output of a step",
            "pass a step's Output[Dataset] (e.g. parts.train), or leave it out for the data the"
            " deployed model was trained on",
        )

    action = _action(monitor.on_drift, problem)
    if failed or action is None:
        return None
    return ir.Monitor(
        features=tuple(features),
        statistics={k: statistics[k] for k in sorted(statistics)},
        thresholds={k: thresholds[k] for k in sorted(thresholds)},
        check_schema=bool(monitor.schema),
        schedule=monitor.schedule,
        baseline=baseline,
        on_drift=action,
        location=trace.ir_location(where),
    )


def _action(on_drift: object, problem: Callable[..., None]) -> ir.DriftAction | None:
    if isinstance(on_drift, Alert):
        return ir.DriftAction(action="alert")
    if not isinstance(on_drift, Retrain):
        problem(
            "MLC135",
            f"on_drift={on_drift!r} is not an action",
            "use on_drift=Alert() or on_drift=Retrain(params={...}, approval=...)",
        )
        return None
    if on_drift.approval is not None and on_drift.approval not in _APPROVALS:
        problem(
            "MLC135",
            f"Retrain approval {on_drift.approval!r} is not a registry status",
            f"use one of {', '.join(_APPROVALS)}",
            on_drift.location,
        )
        return None
    bad = [k for k in on_drift.params if not isinstance(k, str)]
    if bad:
        problem(
            "MLC136",
            f"Retrain params keys {bad!r} are not names",
            "use str keys",
            on_drift.location,
        )
        return None
    return ir.DriftAction(
        action="retrain",
        params={k: on_drift.params[k] for k in sorted(on_drift.params)},
        approval=on_drift.approval,
    )
