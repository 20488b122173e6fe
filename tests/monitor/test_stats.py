"""The drift statistics against known distributions and against scipy as the reference."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from scipy import stats as scipy_stats
from scipy.stats.contingency import chi2_contingency as scipy_chi2_contingency

from mlcompile.monitor import stats


def _normal(seed: int, n: int, mean: float = 0.0, sd: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


@pytest.mark.parametrize(
    ("n1", "n2", "shift"),
    [(10, 12, 0.0), (50, 60, 0.0), (37, 37, 0.5), (200, 150, 0.3), (1000, 1000, 0.1)],
)
def test_ks_matches_scipy_exact(n1: int, n2: int, shift: float) -> None:
    a, b = _normal(1, n1), _normal(2, n2, shift)
    ours = stats.ks_2samp(a, b)
    ref = scipy_stats.ks_2samp(a, b, method="exact")
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)


def test_ks_large_samples_use_the_kolmogorov_limit() -> None:
    a, b = _normal(3, 3000), _normal(4, 2500, 0.05)
    ours = stats.ks_2samp(a, b)
    ref = scipy_stats.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=5e-3)


def test_ks_with_ties_matches_scipy_distance() -> None:
    rng = random.Random(5)
    a = [float(rng.randrange(10)) for _ in range(300)]
    b = [float(rng.randrange(12)) for _ in range(200)]
    assert stats.ks_2samp(a, b).statistic == pytest.approx(
        scipy_stats.ks_2samp(a, b).statistic, abs=1e-12
    )


@pytest.mark.parametrize("n_categories", [2, 3, 6])
def test_chi2_matches_scipy(n_categories: int) -> None:
    rng = random.Random(n_categories)
    a = [str(rng.randrange(n_categories)) for _ in range(300)]
    b = [str(min(n_categories - 1, rng.randrange(n_categories + 1))) for _ in range(250)]
    ours = stats.chi2_contingency(a, b)
    labels = sorted(set(a) | set(b))
    ca, cb = Counter(a), Counter(b)
    statistic, pvalue, _dof, _expected = scipy_chi2_contingency(
        [[ca[k] for k in labels], [cb[k] for k in labels]]
    )
    assert ours.statistic == pytest.approx(statistic, rel=1e-9)
    assert ours.pvalue == pytest.approx(pvalue, rel=1e-9)


@pytest.mark.parametrize(("x", "dof"), [(0.5, 1), (3.84, 1), (10.0, 4), (100.0, 50), (1e-3, 3)])
def test_chi2_survival_matches_scipy(x: float, dof: int) -> None:
    assert stats.chi2_sf(x, dof) == pytest.approx(scipy_stats.chi2.sf(x, dof), rel=1e-9)


def test_no_drift_is_quiet() -> None:
    base, same = _normal(10, 2000, 70, 20), _normal(11, 500, 70, 20)
    assert stats.psi(base, same) < 0.1
    assert stats.ks_2samp(base, same).pvalue > 0.05


def test_a_shift_in_mean_is_drift() -> None:
    base, shifted = _normal(10, 2000, 70, 20), _normal(12, 500, 90, 20)
    assert stats.psi(base, shifted) > 0.2
    result = stats.ks_2samp(base, shifted)
    assert result.statistic > 0.3
    assert result.pvalue < 1e-10


def test_a_new_category_is_drift() -> None:
    rng = random.Random(3)
    base = [str(rng.randrange(3)) for _ in range(1000)]
    current = [str(rng.randrange(4)) for _ in range(400)]  # "3" never seen in the baseline
    assert stats.psi_categorical(base, current) > 0.2
    assert stats.chi2_contingency(base, current).pvalue < 1e-6
    same = [str(rng.randrange(3)) for _ in range(400)]
    assert stats.psi_categorical(base, same) < 0.1
    assert stats.chi2_contingency(base, same).pvalue > 0.01


def test_psi_of_a_known_split() -> None:
    # Two equal halves moved to 70/30: PSI = 0.2 ln(0.7/0.5) - 0.2 ln(0.3/0.5).
    base = ["a"] * 50 + ["b"] * 50
    current = ["a"] * 70 + ["b"] * 30
    expected = 0.2 * math.log(0.7 / 0.5) + 0.2 * math.log(0.5 / 0.3)
    assert stats.psi_categorical(base, current) == pytest.approx(expected, rel=1e-12)


def test_missing_values_and_types() -> None:
    assert stats.missing_rate([1, None, "", " ", float("nan"), 2]) == pytest.approx(4 / 6)
    assert stats.missing_rate([]) == 0.0
    assert stats.numbers([1, "2.5", None, "x", True]) == [1.0, 2.5]
    assert stats.categories([1.0, "1", 2, None]) == ["1", "1", "2"]


def test_schema_changes() -> None:
    base = {"tenure": [1, 2], "plan": ["a", "b"], "gone": [1, 2], "later": [None, None]}
    current = {"tenure": ["one", "two"], "plan": ["a", "c"], "extra": [3], "later": [1, 2]}
    changes = stats.schema_changes(base, current)
    assert changes == [
        stats.SchemaChange("extra", "new", None, "number"),
        stats.SchemaChange("gone", "missing", "number", None),
        stats.SchemaChange("tenure", "type", "number", "string"),
    ]


def test_rows_to_columns_marks_absent_keys_missing() -> None:
    cols = stats.columns([{"a": 1}, {"a": 2, "b": "x"}])
    assert cols == {"a": [1, 2], "b": [None, "x"]}


def test_the_statistics_need_only_the_standard_library_of_python_3_8() -> None:
    """The Kubeflow monitoring job runs this module in a slim python3 image."""
    import ast
    import sys
    from pathlib import Path

    source = Path(stats.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
