"""The SageMaker SDK as an oracle: its definition of the minimal example has the same steps,
types, parameters, property files and dependencies as ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO
from tests.sagemaker.helpers import compiled

pytestmark = pytest.mark.slow

OFFLINE = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _refs(value: Any) -> set[str]:
    """Steps a value reads through Get expressions."""
    if isinstance(value, dict):
        found = set()
        if isinstance(value.get("Get"), str) and value["Get"].startswith("Steps."):
            found.add(value["Get"].split(".")[1])
        for v in value.values():
            found |= _refs(v)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _shape(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": sorted(
            (p["Name"], p["Type"], p.get("DefaultValue")) for p in definition["Parameters"]
        ),
        "steps": {
            s["Name"]: {
                "type": s["Type"],
                "depends": sorted(_refs(s["Arguments"]) | set(s.get("DependsOn", []))),
                "property_files": sorted(
                    (p["PropertyFileName"], p["OutputName"], p["FilePath"])
                    for p in s.get("PropertyFiles", [])
                ),
            }
            for s in definition["Steps"]
        },
    }


def test_minimal_matches_the_sdk() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "sagemaker" / "sdk_oracle.py")],
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    sdk = json.loads(result.stdout.strip().splitlines()[-1])
    ours = json.loads(compiled("example-minimal")[1]["pipeline.json"])
    assert _shape(ours) == _shape(sdk)
    assert sdk["Version"] == ours["Version"]
