"""One monitoring check: the rows an endpoint received against its baseline, by a declaration.

The declaration is plain JSON (see ``MonitoredEndpoint.spec``), so this module, like
``stats``, needs only the standard library and runs in the Kubeflow monitoring job unchanged.
A statistic is drift when PSI or the KS distance is above its threshold, the chi-squared
p-value below its threshold, or the missing-value rate above its threshold; a monitored feature
that disappears or changes type, or a column that was never in the baseline, is a schema change.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, NamedTuple

from mlcompile.monitor import stats


class Check(NamedTuple):
    feature: str
    kind: str
    statistic: str
    value: float
    threshold: float
    drifted: bool
    pvalue: float | None = None

    def rule(self) -> str:
        return "<" if self.statistic == "chi2" else ">"

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "kind": self.kind,
            "statistic": self.statistic,
            "value": round(self.value, 6),
            "pvalue": None if self.pvalue is None else round(self.pvalue, 6),
            "threshold": self.threshold,
            "rule": f"drift when {'p-value' if self.statistic == 'chi2' else 'value'}"
            f" {self.rule()} threshold",
            "drifted": self.drifted,
        }


class Report(NamedTuple):
    endpoint: str
    baseline_rows: int
    current_rows: int
    checks: list[Check]
    schema: list[stats.SchemaChange]

    @property
    def drifted(self) -> bool:
        return bool(self.schema) or any(c.drifted for c in self.checks)

    def drifted_features(self) -> list[str]:
        names = [c.feature for c in self.checks if c.drifted] + [s.column for s in self.schema]
        return sorted(set(names))

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "drifted": self.drifted,
            "drifted_features": self.drifted_features(),
            "baseline_rows": self.baseline_rows,
            "current_rows": self.current_rows,
            "checks": [c.to_json() for c in self.checks],
            "schema_changes": [s._asdict() for s in self.schema],
        }


def compare(
    spec: dict[str, Any],
    baseline: Sequence[dict[str, Any]],
    current: Sequence[dict[str, Any]],
) -> Report:
    """Every statistic the declaration asks for, feature by feature, in declaration order."""
    base_cols, cur_cols = stats.columns(baseline), stats.columns(current)
    thresholds: dict[str, float] = spec["thresholds"]
    checks: list[Check] = []
    for feature in spec["features"]:
        name, kind = feature["name"], feature["kind"]
        if name not in base_cols or name not in cur_cols:
            continue  # reported below as a schema change
        before, after = base_cols[name], cur_cols[name]
        for statistic in spec["statistics"].get(kind, []):
            checks.append(_check(name, kind, statistic, before, after, thresholds[statistic]))
    changes: list[stats.SchemaChange] = []
    if spec.get("schema", True) and current:
        monitored = {f["name"] for f in spec["features"]}
        for change in stats.schema_changes(base_cols, cur_cols):
            # A baseline column the requests never carry (the label) is not a change.
            if change.change != "missing" or change.column in monitored:
                changes.append(change)
    return Report(spec["endpoint"], len(baseline), len(current), checks, changes)


def _check(
    name: str, kind: str, statistic: str, before: list[Any], after: list[Any], threshold: float
) -> Check:
    if statistic == "missing":
        rate = stats.missing_rate(after)
        return Check(name, kind, statistic, rate, threshold, rate > threshold)
    if kind == "number":
        xs, ys = stats.numbers(before), stats.numbers(after)
        if statistic == "psi":
            value = stats.psi(xs, ys)
            return Check(name, kind, statistic, value, threshold, value > threshold)
        if not xs or not ys:
            return Check(name, kind, statistic, 0.0, threshold, False)
        result = stats.ks_2samp(xs, ys)
        return Check(
            name,
            kind,
            statistic,
            result.statistic,
            threshold,
            result.statistic > threshold,
            result.pvalue,
        )
    cs, ds = stats.categories(before), stats.categories(after)
    if statistic == "psi":
        value = stats.psi_categorical(cs, ds)
        return Check(name, kind, statistic, value, threshold, value > threshold)
    result = stats.chi2_contingency(cs, ds)
    return Check(
        name,
        kind,
        statistic,
        result.statistic,
        threshold,
        result.pvalue < threshold,
        result.pvalue,
    )


def read_rows(text: str) -> list[dict[str, Any]]:
    """CSV with a header (numbers parsed), or JSON lines of objects."""
    import json

    stripped = text.lstrip()
    if stripped.startswith("{"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [
        {k: _number(v) for k, v in row.items() if k is not None}
        for row in csv.DictReader(io.StringIO(text))
    ]


def _number(text: str | None) -> Any:
    if text is None or text == "":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text
