"""Data a pipeline imports from a bucket of its own: the pipeline's identity may read exactly
that object or prefix (stacks under mocks, with every policy rule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlcompile.infra import policy
from mlcompile.loader import load
from tests.conftest import REPO, profile
from tests.infra.harness import PLANTED_SECRETS, build_stack

pytestmark = pytest.mark.slow

CASE = REPO / "tests" / "cases" / "import_data.py"


def _statements(stack: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        found += json.loads(resource.inputs["policy"])["Statement"]
    return found


def test_sagemaker_role_reads_the_imported_objects(tmp_path: Path) -> None:
    stack = build_stack(load(str(CASE)).build(), profile("sagemaker-dev"), tmp_path)
    assert stack.needs["imports"] == [
        "s3://mlcompile-example-data/churn.csv",
        "s3://mlcompile-example-data/parts/",
    ]
    statements = _statements(stack)
    reads = [s for s in statements if s["Action"] == ["s3:GetObject"]]
    resources = {r for s in reads for r in s["Resource"]}
    assert "arn:aws:s3:::mlcompile-example-data/churn.csv*" in resources
    assert "arn:aws:s3:::mlcompile-example-data/parts/*" in resources
    listing = [s for s in statements if s["Resource"] == ["arn:aws:s3:::mlcompile-example-data"]]
    assert listing and all(s["Condition"]["StringLike"]["s3:prefix"] for s in listing)
    assert policy.check(stack.resources, PLANTED_SECRETS.values(), production=False) == []


def test_vertex_identity_reads_the_imported_prefix(tmp_path: Path) -> None:
    source = CASE.read_text().replace("s3://", "gs://")
    path = tmp_path / "import_gcs.py"
    path.write_text(source)
    stack = build_stack(load(str(path)).build(), profile("vertex-dev"), tmp_path / "stack")
    members = [
        r
        for r in stack.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.inputs["bucket"] == "mlcompile-example-data"
    ]
    expressions = sorted(m.inputs["condition"]["expression"] for m in members)
    assert expressions == [
        'resource.name.startsWith("projects/_/buckets/mlcompile-example-data/objects/churn.csv")',
        'resource.name.startsWith("projects/_/buckets/mlcompile-example-data/objects/parts/")',
    ]
    assert {m.inputs["role"] for m in members} == {"roles/storage.objectViewer"}
    assert policy.check(stack.resources, PLANTED_SECRETS.values(), production=False) == []
