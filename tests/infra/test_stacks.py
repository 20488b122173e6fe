"""Every example on every profile: the generated program runs under mocks, creates what the
pipeline needs, passes every security rule, and creates every name the compiled spec uses; an
example the platform refuses is refused with a located diagnostic, by the generator and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlcompile.cli.main import app
from mlcompile.errors import ValidationError
from mlcompile.infra import policy
from mlcompile.infra.generator import generate
from mlcompile.infra.policy import Resource
from tests.conftest import REPO, build_example, example_path, profile
from tests.infra.conftest import CASES, REFUSED, REFUSED_CASES, platform_exists
from tests.infra.harness import PLANTED_SECRETS, Stack

ENDPOINT_TYPES = {
    "sagemaker": "aws:sagemaker/endpoint:Endpoint",
    "vertex": "gcp:vertex/aiEndpoint:AiEndpoint",
    "kubeflow": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
}


def _refused_at(example: str, name: str) -> tuple[str, str, int]:
    """The code, file and line the refusal of ``example`` on ``name`` must point at."""
    code, marker = REFUSED[example, profile(name).platform]
    rel = example_path(example).relative_to(REPO).as_posix()
    lines = example_path(example).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if marker in text and "import" not in text)
    return code, rel, line


@pytest.mark.parametrize(("example", "name"), REFUSED_CASES)
def test_refused_example_gets_no_stack(
    example: str, name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, rel, line = _refused_at(example, name)
    with pytest.raises(ValidationError) as raised:
        generate(build_example(example), profile(name))
    assert [(d.code, str(d.location)) for d in raised.value.diagnostics] == [
        (code, f"{rel}:{line}")
    ]
    monkeypatch.chdir(REPO)
    out = tmp_path / "infra"
    result = CliRunner().invoke(app, ["infra", rel, "--target", name, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{rel}:{line}: error {code}" in result.output, result.output
    assert not out.exists()


def test_every_refusal_is_a_real_case() -> None:
    assert {(e, profile(p).platform) for e, p in REFUSED_CASES} == set(REFUSED)


@pytest.mark.parametrize(("example", "name"), CASES)
def test_stack_passes_every_policy_rule(stacks: Any, example: str, name: str) -> None:
    stack = stacks[example, name]
    assert stack.platform is not None
    for one in (stack.platform, stack):
        violations = policy.check(
            one.resources, PLANTED_SECRETS.values(), production=profile(name).keep_stateful
        )
        assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize(("example", "name"), CASES)
def test_stack_creates_what_the_pipeline_needs(stacks: Any, example: str, name: str) -> None:
    stack = stacks[example, name]
    needs, prof = stack.needs, profile(name)
    shared = stack.platform
    assert shared is not None
    endpoints = stack.of_type(ENDPOINT_TYPES[prof.platform])
    if prof.platform == "sagemaker":
        # The pipeline's deploy step owns each SageMaker endpoint; the stack its role.
        assert endpoints == []
        roles = {r.inputs["name"] for r in stack.of_type("aws:iam/role:Role")}
        for e in needs["endpoints"]:
            assert any(r.endswith(f"-{e['endpoint']}-serving-exec") for r in roles), roles
    else:
        assert len(endpoints) == len(needs["endpoints"])
    assert (example == "churn") == bool(needs["endpoints"])
    if prof.cloud == "aws":
        assert len(shared.of_type("aws:s3/bucket:Bucket")) == 1
        assert len(shared.of_type("aws:ecr/repository:Repository")) == 1
        # The artifact key, and the key that encrypts only the alert channel.
        assert len(shared.of_type("aws:kms/key:Key")) == 2
        assert not stack.of_type("aws:s3/bucket:Bucket")
        # The alert channel is the platform stack's: no pipeline stack declares a topic or key.
        assert not stack.of_type("aws:kms/key:Key") and not stack.of_type("aws:sns/topic:Topic")
    if prof.platform == "sagemaker":
        groups = stack.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
        assert sorted(g.inputs["modelPackageGroupName"] for g in groups) == sorted(
            g["name"] for g in needs["model_groups"]
        )
        (pipeline,) = stack.of_type("aws:sagemaker/pipeline:Pipeline")
        assert pipeline.inputs["pipelineDefinition"] == stack.files["pipeline.json"].decode()
        schedules = stack.of_type("aws:scheduler/schedule:Schedule")
        assert len(schedules) == (needs["schedule"] is not None)
        _assert_aws_alerts(stack)
    if prof.platform == "vertex":
        (bucket,) = shared.of_type("gcp:storage/bucket:Bucket")
        assert bucket.inputs["name"] == needs["artifact_store"]
        jobs = [j for j in stack.of_type("gcp:cloudscheduler/job:Job") if not _monitoring(j)]
        assert len(jobs) == (needs["schedule"] is not None)
        grants = shared.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        assert {g.name.rsplit("-", 1)[-1] for g in grants} == {
            "storage",
            "bigquery",
            "aiplatform",
            "artifactregistry",
            "pubsub",
        }
        _assert_gcp_alerts(stack)
    if prof.platform == "kubeflow":
        accounts = {
            a.inputs["metadata"]["name"] for a in stack.of_type("kubernetes:core/v1:ServiceAccount")
        }
        # The pipeline's own, and one that serves its models (read-only) when it has endpoints;
        # a monitored endpoint's request sink and drift check have one each.
        monitors = stack.info.get("monitors", [])
        assert needs["identity"] in accounts
        assert len(accounts) == 1 + bool(needs["endpoints"]) + 2 * len(monitors)
    if prof.cloud == "azure":
        (registry,) = shared.of_type("azure-native:containerregistry:Registry")
        assert registry.inputs["adminUserEnabled"] is False


def _monitoring(resource: Resource) -> bool:
    """A resource of a drift monitor (tested in tests/infra/test_drift.py), by logical name."""
    return resource.name.startswith(("drift-", "requests-"))


def _drift_resources(stack: Stack) -> list[Resource]:
    """What the drift monitors add (their alarm, retraining rule and its target): tested in
    tests/infra/test_drift.py, and told apart here by the monitors' physical names."""
    names = {
        n for m in stack.info.get("monitors", []) for n in (m["names"]["alarm"], m["names"]["rule"])
    }
    return [
        r for r in stack.resources if r.inputs.get("name") in names or r.inputs.get("rule") in names
    ]


def _assert_aws_alerts(stack: Stack) -> None:
    """Failed runs and each endpoint's errors and latency reach the platform stack's one
    KMS-encrypted topic, which accepts only the account's alarms, rules and pipeline roles."""
    assert stack.platform is not None
    (topic,) = stack.platform.of_type("aws:sns/topic:Topic")
    channel = stack.platform.exports["alert_topic_arn"]
    assert channel.endswith(f":{topic.inputs['name']}") or channel.endswith(
        f"/{topic.inputs['name']}"
    )
    assert "alert_topic_arn" in stack.reads["platform"]
    drift = _drift_resources(stack)
    (rule,) = [r for r in stack.of_type("aws:cloudwatch/eventRule:EventRule") if r not in drift]
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert pattern["detail"]["pipelineArn"][0].endswith(f":pipeline/{stack.needs['pipeline_name']}")
    (target,) = [
        t for t in stack.of_type("aws:cloudwatch/eventTarget:EventTarget") if t not in drift
    ]
    assert target.inputs["rule"] == rule.inputs["name"] and target.inputs["arn"] == channel
    (topic_policy,) = stack.platform.of_type("aws:sns/topicPolicy:TopicPolicy")
    account = stack.info["account"]
    allowed = {
        json.dumps(s.get("Principal"), sort_keys=True): s.get("Condition", {})
        for s in json.loads(topic_policy.inputs["policy"])["Statement"]
        if s["Effect"] == "Allow"
    }
    for service in ("events", "cloudwatch"):
        condition = allowed[json.dumps({"Service": f"{service}.amazonaws.com"})]
        assert condition["StringEquals"] == {"aws:SourceAccount": account}
        assert f":{account}:" in condition["ArnLike"]["aws:SourceArn"]
    roles = allowed[json.dumps({"AWS": f"arn:aws:iam::{account}:root"})]
    assert roles["ArnLike"]["aws:PrincipalArn"].startswith(f"arn:aws:iam::{account}:role/mlc-")
    assert topic.inputs["kmsMasterKeyId"].endswith(":key/alerts-key")
    alarms = [a for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a not in drift]
    assert sorted(
        (a.inputs["dimensions"]["EndpointName"], a.inputs["metricName"]) for a in alarms
    ) == sorted(
        (e["name"], metric)
        for e in stack.needs["endpoints"]
        for metric in ("Invocation5XXErrors", "ModelLatency")
    )
    assert all(a.inputs["alarmActions"] == [channel] for a in alarms)


def _assert_gcp_alerts(stack: Stack) -> None:
    """The platform stack's CMEK Pub/Sub topic behind a pubsub channel; the pipeline stack's
    alert on failed runs and error alert per endpoint notify that channel."""
    assert stack.platform is not None
    (topic,) = stack.platform.of_type("gcp:pubsub/topic:Topic")
    assert topic.inputs["kmsKeyName"]
    (channel,) = stack.platform.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["type"] == "pubsub"
    assert not stack.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert [t for t in stack.of_type("gcp:pubsub/topic:Topic") if not _monitoring(t)] == []
    exported = stack.platform.exports["alert_channels"]
    assert len(exported) == 1  # the topic's own: no shipped profile names an email address
    policies = [
        p for p in stack.of_type("gcp:monitoring/alertPolicy:AlertPolicy") if not _monitoring(p)
    ]
    assert all(p.inputs["notificationChannels"] == exported for p in policies)
    logs = [p for p in policies if "conditionMatchedLog" in p.inputs["conditions"][0]]
    (failed,) = logs
    assert (
        f'"^{stack.needs["pipeline_name"]}-"'
        in failed.inputs["conditions"][0]["conditionMatchedLog"]["filter"]
    )
    assert len(policies) - len(logs) == len(stack.needs["endpoints"])


def test_schedule_runs_only_its_pipeline(stacks: Any) -> None:
    for (_, name), stack in stacks.items():
        if profile(name).platform != "sagemaker" or not stack.needs["schedule"]:
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

    stack = stacks[example, name]
    prof = profile(name)
    output = platforms.get(prof.platform).compile(build_example(example), prof)
    spec = "\n".join(
        data.decode("utf-8", "replace")
        for path, data in sorted(output.files.items())
        if not path.endswith(".tar.gz")
    )
    assert stack.platform is not None
    created = {k: v | created_names(stack.platform)[k] for k, v in created_names(stack).items()}
    if prof.platform == "sagemaker":  # created by the pipeline's own deploy step
        created["endpoint"] |= referenced_names(spec).get("endpoint", set())
    missing = {
        kind: sorted(names - created[kind])
        for kind, names in referenced_names(spec).items()
        if names - created[kind]
    }
    assert missing == {}, f"the spec refers to names the stack does not create: {missing}"


def test_key_vault_secrets_are_synced_for_the_steps_that_read_them(stacks: Any) -> None:
    """The CSI driver creates the Kubernetes Secret a step reads only while some pod mounts the
    volume, and a KFP step cannot mount one: the stack runs a pod that does, as the pipeline's
    identity, under the restricted pod security standard."""
    stack = stacks["churn", "kubeflow-azure"]
    (provider,) = [r for r in stack.resources if r.inputs.get("kind") == "SecretProviderClass"]
    name = provider.inputs["metadata"]["name"]
    synced = {o["secretName"] for o in provider.inputs["spec"]["secretObjects"]}
    assert synced == {"churn-warehouse-token"}
    (sync,) = [
        r
        for r in stack.resources
        if r.type == "kubernetes:apps/v1:Deployment" and r.name.endswith("-sync")
    ]
    pod = sync.inputs["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    assert volume["csi"]["driver"] == "secrets-store.csi.k8s.io"
    assert volume["csi"]["volumeAttributes"] == {"secretProviderClass": name}
    assert sync.inputs["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["volumeMounts"][0]["readOnly"] is True
