"""Drift statistics between a baseline sample and a current sample, in the standard library only.

This module runs wherever a monitor runs: the local ``mlcompile monitor`` command, the Kubeflow
monitoring job in a slim ``python3`` image, and the reading of SageMaker and Vertex baselines.
So it imports nothing outside the standard library and runs on Python 3.8 and later.

- :func:`psi`: population stability index over the baseline's deciles (numbers) or its
  categories; 0.1 is a small shift, 0.2 and above a significant one.
- :func:`ks_2samp`: the two-sample Kolmogorov-Smirnov distance and its two-sided p-value
  (exact for small samples, the Kolmogorov limit with Stephens' correction for large ones).
- :func:`chi2_contingency`: Pearson's chi-squared test of homogeneity of the category counts
  (Yates' correction with one degree of freedom, as the usual references apply it).
- :func:`missing_rate` and :func:`schema_changes`.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

#: Where an empty bin would make PSI infinite, it counts this fraction instead.
PSI_EPSILON = 1e-4
#: Up to this many cells (m * n) the KS p-value is computed exactly.
KS_EXACT_CELLS = 1_000_000


class TestResult(NamedTuple):
    statistic: float
    pvalue: float


def is_missing(value: Any) -> bool:
    """None, an empty or blank string, or a float NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, float) and math.isnan(value)


def missing_rate(values: Sequence[Any]) -> float:
    """The fraction of values that are missing (0.0 for no values)."""
    if not values:
        return 0.0
    return sum(1 for v in values if is_missing(v)) / len(values)


def numbers(values: Iterable[Any]) -> list[float]:
    """The values that are numbers (or strings holding numbers), as floats; the rest dropped."""
    out: list[float] = []
    for v in values:
        if is_missing(v) or isinstance(v, bool):
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if not math.isnan(x):
            out.append(x)
    return out


def categories(values: Iterable[Any]) -> list[str]:
    """Present values as category labels (``1`` and ``"1"`` are the same category)."""
    out: list[str] = []
    for v in values:
        if is_missing(v):
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(str(v))
    return out


# ----- population stability index ----------------------------------------------------------------


def psi(baseline: Sequence[float], current: Sequence[float], bins: int = 10) -> float:
    """PSI of numbers, over bins cut at the baseline's quantiles (so each holds about 1/bins)."""
    if not baseline or not current:
        return 0.0
    edges = _quantile_edges(sorted(baseline), bins)
    expected = _histogram(baseline, edges)
    actual = _histogram(current, edges)
    return _psi_of_counts(expected, actual)


def psi_categorical(baseline: Sequence[str], current: Sequence[str]) -> float:
    """PSI over the categories of both samples; a category new in ``current`` counts fully."""
    if not baseline or not current:
        return 0.0
    b, c = Counter(baseline), Counter(current)
    labels = sorted(set(b) | set(c))
    return _psi_of_counts([b[k] for k in labels], [c[k] for k in labels])


def _quantile_edges(ordered: Sequence[float], bins: int) -> list[float]:
    """Inner bin edges at the baseline's quantiles, duplicates removed (ties make fewer bins)."""
    n = len(ordered)
    edges: list[float] = []
    for k in range(1, bins):
        edge = ordered[min(n - 1, (k * n) // bins)]
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return edges


def _histogram(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    counts = [0] * (len(edges) + 1)
    for v in values:
        counts[bisect.bisect_right(edges, v)] += 1
    return counts


def _psi_of_counts(expected: Sequence[int], actual: Sequence[int]) -> float:
    total_e, total_a = sum(expected), sum(actual)
    value = 0.0
    for e, a in zip(expected, actual):  # noqa: B905 (strict= needs Python 3.10)
        pe = max(e / total_e, PSI_EPSILON)
        pa = max(a / total_a, PSI_EPSILON)
        value += (pa - pe) * math.log(pa / pe)
    return value


# ----- Kolmogorov-Smirnov -----------------------------------------------------------------------


def ks_2samp(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """The largest distance between the two empirical CDFs, and its two-sided p-value."""
    if not a or not b:
        raise ValueError("the Kolmogorov-Smirnov test needs values in both samples")
    xs, ys = sorted(a), sorted(b)
    n1, n2 = len(xs), len(ys)
    d = 0.0
    i = j = 0
    while i < n1 and j < n2:
        value = min(xs[i], ys[j])
        while i < n1 and xs[i] == value:
            i += 1
        while j < n2 and ys[j] == value:
            j += 1
        d = max(d, abs(i / n1 - j / n2))
    if n1 * n2 <= KS_EXACT_CELLS:
        p = 1.0 - _smirnov_cdf(d, n1, n2)
    else:
        p = _kolmogorov_sf(d, n1 * n2 / (n1 + n2))
    return TestResult(d, min(1.0, max(0.0, p)))


def _smirnov_cdf(d: float, m: int, n: int) -> float:
    """P(D < d) under the null hypothesis, for samples of sizes m and n without ties.

    Counts the monotone lattice paths from (0, 0) to (m, n) that stay strictly inside the band
    |i/m - j/n| < d (the Hodges recursion); each row is scaled as it goes, so the count is a
    probability and never overflows a float.
    """
    if m > n:
        m, n = n, m
    # The statistic takes values k/(m*n) for integers k: snap to the grid, just below d.
    q = (0.5 + math.floor(d * m * n - 1e-7)) / (m * n)
    u = [0.0 if j / n > q else 1.0 for j in range(n + 1)]
    for i in range(1, m + 1):
        w = i / (i + n)
        u[0] = 0.0 if i / m > q else w * u[0]
        for j in range(1, n + 1):
            if abs(i / m - j / n) > q:
                u[j] = 0.0
            else:
                u[j] = w * u[j] + u[j - 1]
    return u[n]


def _kolmogorov_sf(d: float, effective_n: float) -> float:
    """The Kolmogorov limiting distribution's survival function, with Stephens' correction."""
    root = math.sqrt(effective_n)
    lam = (root + 0.12 + 0.11 / root) * d
    if lam < 0.2:
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = 2.0 * (-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam)
        total += term
        if abs(term) < 1e-12:
            break
    return total


# ----- chi-squared ------------------------------------------------------------------------------


def chi2_contingency(baseline: Sequence[str], current: Sequence[str]) -> TestResult:
    """Chi-squared test that both samples come from the same category distribution.

    The table is 2 x k (sample x category, categories of either sample); with one degree of
    freedom each cell's deviation is reduced by up to 0.5 (Yates' continuity correction).
    """
    b, c = Counter(baseline), Counter(current)
    labels = sorted(set(b) | set(c))
    nb, nc = sum(b.values()), sum(c.values())
    if len(labels) < 2 or not nb or not nc:
        return TestResult(0.0, 1.0)
    total = nb + nc
    dof = len(labels) - 1
    statistic = 0.0
    for label in labels:
        column = b[label] + c[label]
        for observed, row in ((b[label], nb), (c[label], nc)):
            expected = row * column / total
            deviation = abs(observed - expected)
            if dof == 1:
                deviation = max(0.0, deviation - 0.5)
            statistic += deviation * deviation / expected
    return TestResult(statistic, chi2_sf(statistic, dof))


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for a chi-squared variable with ``dof`` degrees of freedom."""
    if x <= 0:
        return 1.0
    return _upper_gamma_regularized(dof / 2.0, x / 2.0)


def _upper_gamma_regularized(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a): a power series below a + 1, a continued fraction above."""
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's method for the continued fraction of Gamma(a, x).
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    dd = 1.0 / b
    h = dd
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        dd = an * dd + b
        dd = tiny if abs(dd) < tiny else dd
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        dd = 1.0 / dd
        delta = dd * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


# ----- schema -----------------------------------------------------------------------------------


class SchemaChange(NamedTuple):
    column: str
    change: str  # "new", "missing" or "type"
    baseline: str | None
    current: str | None


def column_type(values: Iterable[Any]) -> str:
    """'number' when every present value reads as a number, 'string' otherwise ('empty' if none)."""
    present = [v for v in values if not is_missing(v)]
    if not present:
        return "empty"
    return "number" if len(numbers(present)) == len(present) else "string"


def schema_changes(
    baseline: Mapping[str, Sequence[Any]], current: Mapping[str, Sequence[Any]]
) -> list[SchemaChange]:
    """Columns new in ``current``, missing from it, or whose type changed, by column name."""
    changes: list[SchemaChange] = []
    for column in sorted(set(baseline) | set(current)):
        if column not in current:
            changes.append(SchemaChange(column, "missing", column_type(baseline[column]), None))
        elif column not in baseline:
            changes.append(SchemaChange(column, "new", None, column_type(current[column])))
        else:
            before, after = column_type(baseline[column]), column_type(current[column])
            if "empty" not in (before, after) and before != after:
                changes.append(SchemaChange(column, "type", before, after))
    return changes


def columns(rows: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows (dicts) as columns; a column a row lacks counts as missing in that row."""
    listed = list(rows)
    names: list[str] = []
    for row in listed:
        for key in row:
            if key not in names:
                names.append(key)
    return {name: [row.get(name) for row in listed] for name in names}


def summary(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (for the report)."""
    if not values:
        return 0.0, 0.0
    mean = math.fsum(values) / len(values)
    var = math.fsum((v - mean) ** 2 for v in values) / len(values)
    return mean, math.sqrt(var)
