"""The drift-monitoring components under Pulumi mocks, on every platform: each registers the
monitoring resources wired to its trigger and passes every policy rule; the Kubeflow job's code,
taken from the ConfigMap it registers, runs on the system python3 against a stand-in KFP API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlcompile.infra import policy
from mlcompile.infra.drift import monitoring_cron, vertex_monitoring_job
from mlcompile.monitor.declaration import monitored_endpoints
from tests.conftest import build_example
from tests.infra.harness import Recorder, run_program

pytest.importorskip("pulumi")


@pytest.fixture(scope="module")
def churn() -> Any:
    (found,) = monitored_endpoints(build_example("churn"))
    return found


def _run(tmp_path: Path, program: str, project: str, account: str, region: str) -> Recorder:
    (tmp_path / "__main__.py").write_text(program, encoding="utf-8")
    return run_program(tmp_path, project=project, stack="dev", account=account, region=region)


def _one(recorder: Recorder, token: str) -> dict[str, Any]:
    (found,) = [r for r in recorder.resources if r.type == token]
    return dict(found.inputs)


SAGEMAKER = """
import pulumi
from mlcompile.infra import aws, drift

place: aws.Place = {{"account": "111122223333", "region": "eu-west-1"}}
tags = {{"team": "ml"}}
cloud = pulumi.ResourceOptions(providers=[aws.provider(place)])
store = aws.ArtifactStore(
    "artifacts", bucket_name="mlc-dev-artifacts", key_alias="alias/mlc-dev",
    lifecycle={{"noncurrent_version_days": 30, "abort_incomplete_upload_days": 7}}, keep=False,
    tags=tags, opts=cloud,
)
pipeline = aws.SageMakerPipeline(
    "pipeline", name="mlc-dev-churn", definition="{{}}", role_arn="arn:aws:iam::111122223333:role/r",
    tags=tags, opts=cloud,
)
alerts = aws.Alerts(
    "alerts", name="mlc-dev-churn-alerts", rule_name="mlc-dev-churn-failed",
    alarm_names=["mlc-dev-churn-drift"], place=place, pipeline=pipeline, tags=tags, opts=cloud,
)
drift.SageMakerDriftMonitor(
    "drift-churn",
    drift={drift},
    names={{
        "job": "mlc-dev-churn-dq", "schedule": "mlc-dev-churn-monitor",
        "role": "mlc-dev-churn-monitor", "alarm": "mlc-dev-churn-drift",
        "rule": "mlc-dev-churn-drift", "trigger_role": "mlc-dev-churn-drift-trigger",
    }},
    place=place, store=store, pipeline=pipeline, alerts=alerts, tags=tags, opts=cloud,
)
"""


def test_sagemaker_monitoring_schedule_alarm_and_retraining_rule(
    churn: Any, tmp_path: Path
) -> None:
    recorder = _run(
        tmp_path,
        SAGEMAKER.format(drift=repr(churn.drift())),
        "churn",
        "111122223333",
        "eu-west-1",
    )
    assert policy.check(recorder.resources) == []
    job = _one(recorder, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "churn"
    assert job["dataQualityAppSpecification"]["imageUri"] == (
        "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert job["dataQualityAppSpecification"]["environment"] == {
        "publish_cloudwatch_metrics": "Enabled"
    }
    assert job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        "s3://mlc-dev-artifacts/monitoring/churn/baseline/statistics.json"
    )
    assert job["networkConfig"]["enableNetworkIsolation"] is True
    schedule = _one(recorder, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    config = schedule["monitoringScheduleConfig"]
    assert config["monitoringJobDefinitionName"] == "mlc-dev-churn-dq"
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"

    alarms = {
        r.inputs["name"]: r.inputs
        for r in recorder.resources
        if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
    }
    alarm = alarms["mlc-dev-churn-drift"]
    assert alarm["threshold"] == 0.1
    metrics = [q["metric"]["metricName"] for q in alarm["metricQueries"] if "metric" in q]
    assert metrics == [f"feature_baseline_drift_{f}" for f in churn.drift()["features"]]
    topic_arn = "arn:aws:sns:eu-west-1:111122223333:topic/mlc-dev-churn-alerts"
    assert alarm["alarmActions"] == [topic_arn]

    rules = {
        r.inputs["name"]: r.inputs
        for r in recorder.resources
        if r.type == "aws:cloudwatch/eventRule:EventRule"
    }
    pattern = json.loads(rules["mlc-dev-churn-drift"]["eventPattern"])
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["resources"] == [
        "arn:aws:cloudwatch:eu-west-1:111122223333:metricalarm/mlc-dev-churn-drift"
    ]
    targets = [
        r.inputs for r in recorder.resources if r.type == "aws:cloudwatch/eventTarget:EventTarget"
    ]
    (retrain,) = [t for t in targets if "sagemakerPipelineTarget" in t]
    assert retrain["arn"].endswith(":pipeline/mlc-dev-churn")
    assert retrain["sagemakerPipelineTarget"]["pipelineParameterLists"] == [
        {"name": "approval", "value": "PendingManualApproval"},
        {"name": "rows", "value": "4000"},
        {"name": "seed", "value": "8"},
    ]
    policies = {
        r.name: json.loads(r.inputs["policy"])
        for r in recorder.resources
        if r.type == "aws:iam/rolePolicy:RolePolicy"
    }
    trigger = policies["drift-churn-trigger-policy"]["Statement"]
    assert trigger == [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution"],
            "Resource": [retrain["arn"]],
        }
    ]


def test_sagemaker_schedules_run_hourly_or_daily_only() -> None:
    assert monitoring_cron("0 * * * *") == "cron(0 * ? * * *)"
    assert monitoring_cron("0 */6 * * *") == "cron(0 */6 ? * * *)"
    assert monitoring_cron("0 4 * * *") == "cron(0 4 ? * * *)"
    for cron in ("15 * * * *", "0 4 * * 1", "0 1-5 * * *"):
        with pytest.raises(ValueError, match="hourly or daily"):
            monitoring_cron(cron)


VERTEX = """
import pulumi
from mlcompile.infra import gcp, drift

place: gcp.Place = {{"project": "mlc-project", "region": "europe-west4"}}
labels = {{"team": "ml"}}
cloud = pulumi.ResourceOptions(providers=[gcp.provider(place)])
key = gcp.EncryptionKey(
    "cmek", name="mlc-dev", place=place, existing_key=None,
    agents=["aiplatform.googleapis.com", "pubsub.googleapis.com"], labels=labels, opts=cloud,
)
bucket = gcp.ArtifactBucket(
    "artifacts", name="mlc-dev-artifacts", place=place, key=key, noncurrent_version_days=30,
    keep=False, labels=labels, opts=cloud,
)
templates = gcp.Repository(
    "templates", name="mlc-dev-churn", format="KFP", place=place, key=key, keep=False,
    labels=labels, opts=cloud,
)
identity = gcp.PipelineServiceAccount(
    "pipeline-identity", account_id="mlc-dev-churn", place=place, bucket=bucket,
    repositories=[templates], secrets=[], workload=None,
    project_roles=["roles/aiplatform.user"], opts=cloud,
)
alerts = gcp.Alerts(
    "alerts", name="mlc-dev-churn-alerts", pipeline="mlc-dev-churn", key=key, labels=labels,
    opts=cloud,
)
endpoint = gcp.VertexEndpoint(
    "endpoint-churn", name="churn", endpoint_id="1234567890", place=place, key=key,
    labels=labels, opts=cloud,
)
gcp.EndpointAlerts("alerts-churn", endpoint=endpoint, alerts=alerts, labels=labels, opts=cloud)
monitor = drift.VertexDriftMonitor(
    "drift-churn",
    drift={drift},
    kinds={kinds},
    names={{
        "topic": "mlc-dev-churn-drift", "trigger_account": "mlc-dev-churn-drift",
        "workflow": "mlc-dev-churn-drift", "trigger": "mlc-dev-churn-drift",
    }},
    pipeline="mlc-dev-churn", place=place, key=key, bucket=bucket, templates=templates,
    identity=identity, endpoint=endpoint, alerts=alerts, labels=labels, opts=cloud,
)
pulumi.export("monitoring_job_request", monitor.request)
"""


def test_vertex_anomaly_alert_and_retraining_workflow(churn: Any, tmp_path: Path) -> None:
    recorder = _run(
        tmp_path,
        VERTEX.format(drift=repr(churn.drift()), kinds=repr(churn.kinds())),
        "churn",
        "mlc-project",
        "europe-west4",
    )
    assert policy.check(recorder.resources) == []
    policies = {
        r.inputs["displayName"]: r.inputs
        for r in recorder.resources
        if r.type == "gcp:monitoring/alertPolicy:AlertPolicy"
    }
    drift_alert = policies["churn: requests drifted from the baseline"]
    log_filter = drift_alert["conditions"][0]["conditionMatchedLog"]["filter"]
    assert "model_monitoring_anomaly" in log_filter and "ModelDeploymentMonitoringJob" in log_filter
    assert len(drift_alert["notificationChannels"]) == 2  # the stack's channel and the trigger's
    topics = {
        r.inputs["name"]: r.inputs for r in recorder.resources if r.type == "gcp:pubsub/topic:Topic"
    }
    assert topics["mlc-dev-churn-drift"]["kmsKeyName"]
    trigger = _one(recorder, "gcp:eventarc/trigger:Trigger")
    assert trigger["transport"]["pubsub"]["topic"] == "projects/mlc-project/drift-churn-topic"
    assert trigger["destination"]["workflow"] == "projects/mlc-project/drift-churn-workflow"
    workflow = _one(recorder, "gcp:workflows/workflow:Workflow")
    steps = json.loads(workflow["sourceContents"])["main"]["steps"]
    call = steps[0]["create"]["args"]
    assert call["url"] == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/mlc-project/locations/"
        "europe-west4/pipelineJobs"
    )
    assert call["body"]["runtimeConfig"]["parameterValues"] == {
        "approval": "PendingManualApproval",
        "rows": 4000,
        "seed": 8,
    }
    assert call["body"]["templateUri"].endswith("/mlc-dev-churn/latest")
    roles = sorted(
        r.inputs["role"]
        for r in recorder.resources
        if r.name.startswith("drift-churn-trigger") and "role" in r.inputs
    )
    assert roles == [
        "roles/aiplatform.user",
        "roles/eventarc.eventReceiver",
        "roles/iam.serviceAccountUser",
        "roles/workflows.invoker",
    ]


def test_vertex_monitoring_job_request_is_a_valid_api_message(churn: Any) -> None:
    aiplatform_v1 = pytest.importorskip("google.cloud.aiplatform_v1")
    from google.protobuf import json_format

    request = vertex_monitoring_job(
        display_name="churn-drift",
        endpoint="projects/p/locations/europe-west4/endpoints/123",
        deployed_model_id="456",
        drift=churn.drift(),
        kinds=churn.kinds(),
        notification_channels=["projects/p/notificationChannels/7"],
        kms_key="projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k",
        labels={"team": "ml"},
    )
    message = aiplatform_v1.ModelDeploymentMonitoringJob.pb()()
    json_format.ParseDict(request, message)  # raises on any unknown field or wrong type
    config = message.model_deployment_monitoring_objective_configs[0].objective_config
    thresholds = config.prediction_drift_detection_config.drift_thresholds
    assert sorted(thresholds) == sorted(churn.drift()["features"])
    assert message.model_deployment_monitoring_schedule_config.monitor_interval.seconds == 3600


KUBEFLOW = """
import pulumi
import pulumi_kubernetes as k8s
from mlcompile.infra import drift

cluster = pulumi.ResourceOptions(
    providers=[k8s.Provider("cluster", kubeconfig="/home/ops/.kube/config", context="ml")]
)
drift.KubeflowDriftMonitor(
    "drift-churn",
    name="churn-drift",
    namespace="mlc-dev",
    spec={spec},
    cron="0 * * * *",
    requests_url="http://churn-requests.mlc-dev.svc/requests",
    baseline_url="http://churn-requests.mlc-dev.svc/baseline.csv",
    kfp={{"url": "http://ml-pipeline.kubeflow.svc:8888", "pipeline_id": "pipeline-1"}},
    image="python:3.8-slim",
    labels={{"team": "ml"}},
    opts=cluster,
)
"""


class _Stand(BaseHTTPRequestHandler):
    """Serves the logged requests and the baseline, and records runs created through the API."""

    files: ClassVar[dict[str, str]] = {}
    runs: ClassVar[list[tuple[dict[str, Any], str]]] = []

    def do_GET(self) -> None:
        body = self.files.get(self.path, "").encode()
        self.send_response(200 if self.path in self.files else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.runs.append(
            (json.loads(self.rfile.read(length)), self.headers.get("Authorization", ""))
        )
        body = json.dumps({"run_id": "run-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stand() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stand)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_kubeflow_cron_job_runs_its_own_code_and_creates_a_run(
    churn: Any, tmp_path: Path, stand: str
) -> None:
    program = tmp_path / "program"
    program.mkdir()
    recorder = _run(program, KUBEFLOW.format(spec=repr(churn.spec())), "churn", "c", "r")
    assert policy.check(recorder.resources) == []
    cron = _one(recorder, "kubernetes:batch/v1:CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert cron["spec"]["schedule"] == "0 * * * *"
    assert container["command"] == [
        "python3", "-m", "mlcompile.monitor.job", "/opt/mlcompile/config.json"
    ]  # fmt: skip
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["serviceAccountName"] == "churn-drift"
    role = _one(recorder, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert role["rules"] == [
        {"apiGroups": ["pipelines.kubeflow.org"], "resources": ["runs"], "verbs": ["create", "get"]}
    ]

    # Lay the ConfigMap out as the pod's volume does, and run it on the system interpreter.
    config_map = _one(recorder, "kubernetes:core/v1:ConfigMap")
    (code_volume,) = [v for v in pod["volumes"] if v["name"] == "code"]
    mount = tmp_path / "mount"
    for item in code_volume["configMap"]["items"]:
        target = mount / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config_map["data"][item["key"]], encoding="utf-8")
    config = json.loads((mount / "config.json").read_text())
    (tmp_path / "token").write_text("projected-token\n")
    config.update(
        requests_url=f"{stand}/requests",
        baseline_url=f"{stand}/baseline.csv",
        kfp={**config["kfp"], "url": stand, "token_file": str(tmp_path / "token")},
    )
    (mount / "config.json").write_text(json.dumps(config))
    baseline = "tenure,monthly,calls,contract,churned\n" + "".join(
        f"{t},{60 + t % 20},{t % 4},{t % 3},0\n" for t in range(1, 301)
    )
    shifted = "".join(
        json.dumps(
            {"instances": [{"tenure": t, "monthly": 120 + t % 20, "calls": t % 4, "contract": 3}]}
        )
        + "\n"
        for t in range(1, 201)
    )
    _Stand.files = {"/baseline.csv": baseline, "/requests": shifted}
    _Stand.runs = []
    python3 = shutil.which("python3", path="/usr/bin:/bin")
    if python3 is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the system python3 is missing")
        pytest.skip("the system python3 is not installed")
    # As in the pod: the ConfigMap on PYTHONPATH, no site-packages, so the standard library only.
    done = subprocess.run(
        [python3, "-S", "-m", "mlcompile.monitor.job", str(mount / "config.json")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(mount), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["report"]["drifted"] is True
    assert "monthly" in result["report"]["drifted_features"]
    assert result["run"]["run_id"] == "run-1"
    ((body, auth),) = _Stand.runs
    assert auth == "Bearer projected-token"
    assert body["pipeline_version_reference"] == {"pipeline_id": "pipeline-1"}
    assert body["runtime_config"]["parameters"] == churn.retrain_params()


@pytest.mark.parametrize("name", ["sagemaker-dev", "vertex-dev", "kubeflow-dev"])
def test_stack_inputs_name_every_resource_validly(name: str) -> None:
    import re

    from mlcompile.monitor.stack import monitor_context
    from tests.conftest import profile

    (entry,) = monitor_context(build_example("churn"), profile(name))
    assert entry["drift"]["endpoint"] == entry["spec"]["endpoint"] != "churn"  # physical name
    for purpose, value in entry["names"].items():
        assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value), (purpose, value)
    if name.startswith("vertex"):
        assert 6 <= len(entry["names"]["trigger_account"]) <= 30
    assert entry["alarms"] == ([entry["names"]["alarm"]] if name.startswith("sagemaker") else [])
