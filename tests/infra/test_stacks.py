"""Every example on every profile: the generated program runs under mocks, creates what the
pipeline needs, passes every security rule, and creates every name the compiled spec uses."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mlcompile.infra import policy
from tests.conftest import build_example, profile
from tests.infra.conftest import CASES, platform_exists
from tests.infra.harness import PLANTED_SECRETS, Stack

ENDPOINT_TYPES = {
    "sagemaker": "aws:sagemaker/endpoint:Endpoint",
    "vertex": "gcp:vertex/aiEndpoint:AiEndpoint",
    "kubeflow": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
}


def _stack(stacks: dict[tuple[str, str], Stack | None], example: str, name: str) -> Stack:
    stack = stacks[example, name]
    if stack is None:
        pytest.skip(f"{profile(name).platform} refuses {example} with a located diagnostic")
    return stack


@pytest.mark.parametrize(("example", "name"), CASES)
def test_stack_passes_every_policy_rule(stacks: Any, example: str, name: str) -> None:
    stack = _stack(stacks, example, name)
    violations = policy.check(stack.resources, PLANTED_SECRETS.values())
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize(("example", "name"), CASES)
def test_stack_creates_what_the_pipeline_needs(stacks: Any, example: str, name: str) -> None:
    stack = _stack(stacks, example, name)
    needs, prof = stack.needs, profile(name)
    endpoints = stack.of_type(ENDPOINT_TYPES[prof.platform])
    assert len(endpoints) == len(needs["endpoints"])
    assert (example == "churn") == bool(needs["endpoints"])
    if prof.cloud == "aws":
        assert len(stack.of_type("aws:s3/bucket:Bucket")) == 1
        assert len(stack.of_type("aws:ecr/repository:Repository")) == 1
        assert len(stack.of_type("aws:kms/key:Key")) == 1
    if prof.platform == "sagemaker":
        groups = stack.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
        assert sorted(g.inputs["modelPackageGroupName"] for g in groups) == sorted(
            g["name"] for g in needs["model_groups"]
        )
        (pipeline,) = stack.of_type("aws:sagemaker/pipeline:Pipeline")
        assert pipeline.inputs["pipelineDefinition"] == stack.files["pipeline.json"].decode()
        schedules = stack.of_type("aws:scheduler/schedule:Schedule")
        assert len(schedules) == (needs["schedule"] is not None)
        if endpoints:
            configs = stack.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
            capture = configs[0].inputs["dataCaptureConfig"]
            assert capture["destinationS3Uri"].startswith(f"s3://{needs['artifact_store']}/")
    if prof.platform == "vertex":
        (bucket,) = stack.of_type("gcp:storage/bucket:Bucket")
        assert bucket.inputs["name"] == needs["artifact_store"]
        jobs = stack.of_type("gcp:cloudscheduler/job:Job")
        assert len(jobs) == (needs["schedule"] is not None)
        grants = stack.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        assert {g.name.rsplit("-", 1)[-1] for g in grants} == {
            "storage",
            "aiplatform",
            "artifactregistry",
        }
    if prof.platform == "kubeflow":
        (account,) = stack.of_type("kubernetes:core/v1:ServiceAccount")
        assert account.inputs["metadata"]["name"] == needs["identity"]
    if prof.cloud == "azure":
        (registry,) = stack.of_type("azure-native:containerregistry:Registry")
        assert registry.inputs["adminUserEnabled"] is False


def test_schedule_runs_only_its_pipeline(stacks: Any) -> None:
    for (_, name), stack in stacks.items():
        if stack is None or profile(name).platform != "sagemaker" or not stack.needs["schedule"]:
            continue
        policies = [
            json.loads(p.inputs["policy"])
            for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")
            if p.name == "schedule-policy"
        ]
        (document,) = policies
        start = document["Statement"][0]
        assert start["Action"] == ["sagemaker:StartPipelineExecution"]
        assert start["Resource"] == [
            f"arn:aws:sagemaker:{profile(name).region}:{profile(name).account}:pipeline/{stack.needs['pipeline_name']}"
        ]


# ----- the names a compiled spec refers to are all created by the stack -------------------

_S3 = re.compile(r"s3://([a-z0-9.-]+)")
_GS = re.compile(r"gs://([a-z0-9._-]+)")
_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/([A-Za-z0-9+=,.@_/-]+)")


def referenced_names(spec: str) -> dict[str, set[str]]:
    """Buckets, roles, model groups, endpoints and service accounts a compiled spec names."""
    found: dict[str, set[str]] = {
        "bucket": set(_S3.findall(spec)) | set(_GS.findall(spec)),
        "role": set(_ROLE.findall(spec)),
        "model-group": set(re.findall(r'"ModelPackageGroupName":\s*"([^"]+)"', spec)),
        "endpoint": set(re.findall(r'"--endpoint",\s*"([^"]+)"', spec))
        | set(re.findall(r"endpoint_name['\"]?:\s*['\"]?([a-z0-9-]+)", spec)),
        "service-account": set(
            re.findall(r"serviceAccount(?:Name)?['\"]?:\s*['\"]?([a-z0-9-]+)", spec)
        ),
    }
    return {kind: names for kind, names in found.items() if names}


def created_names(stack: Stack) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {
        k: set() for k in ("bucket", "role", "model-group", "endpoint", "service-account")
    }
    for r in stack.resources:
        i = r.inputs
        if r.type == "aws:s3/bucket:Bucket":
            names["bucket"].add(i["bucket"])
        elif r.type == "gcp:storage/bucket:Bucket":
            names["bucket"].add(i["name"])
        elif r.type == "aws:iam/role:Role":
            names["role"].add(i["name"])
        elif r.type == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
            names["model-group"].add(i["modelPackageGroupName"])
        elif r.type == "aws:sagemaker/endpoint:Endpoint":
            names["endpoint"].add(i["name"])
        elif r.type == "gcp:vertex/aiEndpoint:AiEndpoint":
            names["endpoint"].add(i["displayName"])
        elif r.type == "kubernetes:serving.kserve.io/v1beta1:InferenceService":
            names["endpoint"].add(i["metadata"]["name"])
        elif r.type == "kubernetes:core/v1:ServiceAccount":
            names["service-account"].add(i["metadata"]["name"])
        elif r.type == "gcp:serviceaccount/account:Account":
            names["service-account"].add(i["accountId"])
    return names


def _covered_cases() -> list[tuple[str, str]]:
    return [(e, p) for e, p in CASES if platform_exists(profile(p).platform)]


@pytest.mark.parametrize(("example", "name"), _covered_cases())
def test_every_name_the_spec_uses_is_created(stacks: Any, example: str, name: str) -> None:
    from mlcompile import platforms

    stack = _stack(stacks, example, name)
    prof = profile(name)
    output = platforms.get(prof.platform).compile(build_example(example), prof)
    spec = "\n".join(
        data.decode("utf-8", "replace")
        for path, data in sorted(output.files.items())
        if not path.endswith(".tar.gz")
    )
    created = created_names(stack)
    missing = {
        kind: sorted(names - created[kind])
        for kind, names in referenced_names(spec).items()
        if names - created[kind]
    }
    assert missing == {}, f"the spec refers to names the stack does not create: {missing}"
