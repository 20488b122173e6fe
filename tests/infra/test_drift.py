"""The drift-monitoring components under Pulumi mocks, on every platform: each registers the
monitoring resources wired to its trigger and passes every policy rule; the Kubeflow job's code,
taken from the ConfigMap it registers, runs on the system python3 against a stand-in KFP API."""

from __future__ import annotations

import base64
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
from mlcompile.infra.drift import monitoring_cron
from mlcompile.monitor import job as job_module
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
alerts = aws.AlertChannel(
    "alerts", name="mlc-dev-churn-alerts", place=place, role_prefix="mlc-dev-", tags=tags,
    opts=cloud,
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
gcp.PipelineSchedule(
    "schedule", name="mlc-dev-churn-schedule", pipeline="mlc-dev-churn", place=place,
    when={{"cron": "0 3 * * *", "timezone": "Etc/UTC"}}, templates=templates, bucket=bucket,
    key=key, identity=identity, labels=labels, opts=cloud,
)
alerts = gcp.AlertChannel(
    "alerts", name="mlc-dev-churn-alerts", key=key, labels=labels, opts=cloud,
)
log = drift.VertexRequestLog(
    "requests-churn", name="mlc_dev_churn_requests", endpoint="churn", place=place, key=key,
    keep=False, labels=labels, opts=cloud,
)
endpoint = gcp.VertexEndpoint(
    "endpoint-churn", name="churn", endpoint_id="1234567890", place=place, key=key,
    labels=labels, request_log=log.uri, opts=cloud,
)
gcp.EndpointAlerts("alerts-churn", endpoint=endpoint, alerts=alerts, labels=labels, opts=cloud)
drift.VertexDriftMonitor(
    "drift-churn",
    drift={drift},
    spec={spec},
    window_hours=1,
    names={{
        "job": "mlc-dev-churn-churn-drift", "schedule": "mlc-dev-churn-churn-drift-schedule",
        "role": "mlc-dev-churn-monitor", "topic": "mlc-dev-churn-churn-drift",
        "trigger_account": "mlc-dev-churn-drift", "workflow": "mlc-dev-churn-churn-drift",
        "trigger": "mlc-dev-churn-churn-drift",
    }},
    pipeline="mlc-dev-churn", place=place, key=key, bucket=bucket, templates=templates,
    identity=identity, log=log, alerts=alerts, image="docker.io/library/python:3.11-slim",
    labels=labels, opts=cloud,
)
"""


@pytest.fixture(scope="module")
def vertex(churn: Any, tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    program = VERTEX.format(drift=repr(churn.drift()), spec=repr(churn.spec()))
    return _run(tmp_path_factory.mktemp("vertex"), program, "churn", "mlc-project", "europe-west4")


def _named(recorder: Recorder, token: str) -> dict[str, dict[str, Any]]:
    return {r.name: dict(r.inputs) for r in recorder.resources if r.type == token}


def test_vertex_monitor_is_private_encrypted_and_least_privilege(vertex: Recorder) -> None:
    assert policy.check(vertex.resources) == []
    (dataset,) = _named(vertex, "gcp:bigquery/dataset:Dataset").values()
    assert dataset["defaultEncryptionConfiguration"]["kmsKeyName"]
    (endpoint,) = _named(vertex, "gcp:vertex/aiEndpoint:AiEndpoint").values()
    logging = endpoint["predictRequestResponseLoggingConfig"]
    assert logging["enabled"] is True and logging["samplingRate"] == 1.0
    assert logging["bigqueryDestination"]["outputUri"] == (
        "bq://mlc-project.mlc_dev_churn_requests.request_response_logging"
    )
    monitor = "serviceAccount:mlc-dev-churn-monitor@mlc-project.iam.gserviceaccount.com"
    granted = sorted(
        (r.type.split("/")[1].split(":")[0], r.inputs["role"])
        for r in vertex.resources
        if r.inputs.get("member") == monitor
    )
    assert granted == [
        ("bucketIAMMember", "roles/storage.objectViewer"),
        ("datasetIamMember", "roles/bigquery.dataViewer"),
        ("iAMMember", "roles/bigquery.jobUser"),
        ("jobIamMember", "roles/run.invoker"),
        ("topicIAMMember", "roles/pubsub.publisher"),
        ("topicIAMMember", "roles/pubsub.publisher"),
    ]
    (reads,) = [
        r.inputs
        for r in vertex.resources
        if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember" and r.inputs["member"] == monitor
    ]
    expression = reads["condition"]["expression"]
    assert "objects/code/monitoring/churn/" in expression
    assert "objects/monitoring/churn/" in expression and "objectListPrefix" in expression
    topics = {r.inputs["topic"] for r in vertex.resources if r.inputs.get("member") == monitor
              and r.type == "gcp:pubsub/topicIAMMember:TopicIAMMember"}  # fmt: skip
    assert topics == {"mlc-dev-churn-alerts", "mlc-dev-churn-churn-drift"}


def _content(bucket_object: dict[str, Any]) -> str:
    """A BucketObject's content, which the provider marks secret (wrapped on the wire)."""
    content = bucket_object["content"]
    return str(content["value"] if isinstance(content, dict) else content)


def test_vertex_job_runs_its_own_code_on_schedule(vertex: Recorder, churn: Any) -> None:
    (run_job,) = _named(vertex, "gcp:cloudrunv2/job:Job").values()
    task = run_job["template"]["template"]
    (container,) = task["containers"]
    assert container["commands"] == ["python3"]
    assert container["args"] == ["-m", "mlcompile.monitor.job", "/opt/mlcompile/config.json"]
    assert task["serviceAccount"] == "mlc-dev-churn-monitor@mlc-project.iam.gserviceaccount.com"
    assert task["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2"
    mounts = {v["name"]: v["gcs"] for v in task["volumes"]}
    assert mounts["code"]["mountOptions"] == ["only-dir=code/monitoring/churn"]
    assert mounts["data"]["mountOptions"] == ["only-dir=monitoring/churn"]
    assert all(m["readOnly"] for m in mounts.values())
    objects = {
        o["name"]: o for o in _named(vertex, "gcp:storage/bucketObject:BucketObject").values()
    }
    config = json.loads(_content(objects["code/monitoring/churn/config.json"]))
    assert config["spec"] == churn.spec()
    assert config["baseline_url"] == "/mnt/monitoring/baseline.csv"  # monitoring/churn/baseline.csv
    assert config["bigquery"] == {
        "table": "mlc-project.mlc_dev_churn_requests.request_response_logging",
        "hours": 1,
    }
    assert config["pubsub"] == {
        "alert_topic": "projects/mlc-project/topics/mlc-dev-churn-alerts",
        "retrain_topic": "projects/mlc-project/topics/mlc-dev-churn-churn-drift",
    }
    code = _content(objects["code/monitoring/churn/mlcompile/monitor/job.py"])
    assert code == Path(job_module.__file__).read_text(encoding="utf-8")
    schedules = _named(vertex, "gcp:cloudscheduler/job:Job")
    target = schedules["drift-churn-schedule"]["httpTarget"]
    assert schedules["drift-churn-schedule"]["schedule"] == "0 * * * *"
    assert target["uri"] == (
        "https://run.googleapis.com/v2/projects/mlc-project/locations/europe-west4/jobs/"
        "mlc-dev-churn-churn-drift:run"
    )
    assert target["oauthToken"]["serviceAccountEmail"] == task["serviceAccount"]
    policies = _named(vertex, "gcp:monitoring/alertPolicy:AlertPolicy")
    failed = policies["drift-churn-failed"]
    assert (
        'resource.labels.job_name="mlc-dev-churn-churn-drift"'
        in (failed["conditions"][0]["conditionMatchedLog"]["filter"])
    )


class _Aiplatform(BaseHTTPRequestHandler):
    """Records the pipeline jobs created through it."""

    created: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.created.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
        body = json.dumps({"name": "projects/mlc-project/pipelineJobs/run-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_vertex_drift_topic_starts_the_schedules_pipeline_job_with_the_parameters(
    vertex: Recorder, churn: Any
) -> None:
    import urllib.parse
    import urllib.request

    trigger = _one(vertex, "gcp:eventarc/trigger:Trigger")
    (topic,) = [
        r for r in vertex.resources
        if r.type == "gcp:pubsub/topic:Topic" and r.inputs["name"] == "mlc-dev-churn-churn-drift"
    ]  # fmt: skip
    assert topic.inputs["kmsKeyName"]
    assert trigger["transport"]["pubsub"]["topic"] == "projects/mlc-project/drift-churn-topic"
    assert trigger["destination"]["workflow"] == "projects/mlc-project/drift-churn-workflow"
    assert trigger["serviceAccount"] == "mlc-dev-churn-drift@mlc-project.iam.gserviceaccount.com"
    workflow = _one(vertex, "gcp:workflows/workflow:Workflow")
    (create, _done) = json.loads(workflow["sourceContents"])["main"]["steps"]
    call = create["create"]
    assert call["call"] == "http.post" and call["args"]["auth"] == {"type": "OAuth2"}
    url = urllib.parse.urlsplit(call["args"]["url"])
    assert url.netloc == "europe-west4-aiplatform.googleapis.com"

    # What the Workflow's http.post sends, sent to a recording stand-in of the API.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Aiplatform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Aiplatform.created = []
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_address[1]}{url.path}",
            data=json.dumps(call["args"]["body"]).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["name"].endswith("/run-1")
    finally:
        server.shutdown()
        server.server_close()
    ((created),) = _Aiplatform.created
    assert created["path"] == "/v1/projects/mlc-project/locations/europe-west4/pipelineJobs"
    body = created["body"]
    assert body["runtimeConfig"]["parameterValues"] == churn.retrain_params()
    assert body["labels"]["mlcompile-trigger"] == "drift"
    # The same request the schedule sends, with the parameters added.
    (schedule,) = [
        r.inputs for r in vertex.resources
        if r.type == "gcp:cloudscheduler/job:Job" and r.name == "schedule"
    ]  # fmt: skip
    scheduled = json.loads(base64.b64decode(schedule["httpTarget"]["body"]))
    assert schedule["httpTarget"]["uri"] == call["args"]["url"]
    assert {k: v for k, v in body.items() if k not in ("runtimeConfig", "labels")} == {
        k: v for k, v in scheduled.items() if k not in ("runtimeConfig", "labels")
    }
    assert (
        body["runtimeConfig"]["gcsOutputDirectory"]
        == scheduled["runtimeConfig"]["gcsOutputDirectory"]
    )
    aiplatform_v1 = pytest.importorskip("google.cloud.aiplatform_v1")
    from google.protobuf import json_format

    message = aiplatform_v1.PipelineJob.pb()()
    json_format.ParseDict(body, message)  # raises on any unknown field or wrong type
    assert message.template_uri.endswith("/mlc-dev-churn/latest")
    assert message.service_account == "mlc-dev-churn@mlc-project.iam.gserviceaccount.com"
    assert dict(message.runtime_config.parameter_values)["rows"].number_value == 4000
    roles = sorted(
        r.inputs["role"]
        for r in vertex.resources
        if r.name.startswith("drift-churn-trigger") and "role" in r.inputs
    )
    assert roles == [
        "roles/aiplatform.user",
        "roles/eventarc.eventReceiver",
        "roles/iam.serviceAccountUser",
        "roles/workflows.invoker",
    ]


KUBEFLOW = """
import pulumi
import pulumi_kubernetes as k8s
from mlcompile.infra import drift

cluster = pulumi.ResourceOptions(
    providers=[k8s.Provider("cluster", kubeconfig="/home/ops/.kube/config", context="ml")]
)
drift.KubeflowDriftMonitor(
    "drift-churn",
    name="mlc-dev-kubeflow-churn-drift",
    sink="mlc-dev-kubeflow-churn-requests",
    namespace="ml-dev",
    spec={spec},
    cron="0 * * * *",
    window_hours=1,
    kfp={{
        "url": "http://ml-pipeline.kubeflow.svc.cluster.local:8888",
        "namespace": "ml-dev",
        "pipeline": "mlc-dev-kubeflow-churn",
        "experiment": "mlc-dev-kubeflow-churn",
        "service_account": "mlc-dev-kubeflow-churn-exec",
    }},
    image="docker.io/library/python:3.11-slim",
    labels={{"team": "ml"}},
    opts=cluster,
)
"""


class _Stand(BaseHTTPRequestHandler):
    """Serves the logged requests and the baseline, and records runs created through the API."""

    files: ClassVar[dict[str, str]] = {}
    runs: ClassVar[list[tuple[dict[str, Any], str]]] = []

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self.files.get(path, "").encode()
        self.send_response(200 if path in self.files else 404)
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
    assert pod["serviceAccountName"] == "mlc-dev-kubeflow-churn-drift"
    assert pod["automountServiceAccountToken"] is False  # only the KFP-audience token
    role = _one(recorder, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert role["rules"] == [
        {
            "apiGroups": ["pipelines.kubeflow.org"],
            "resources": ["runs"],
            "verbs": ["create", "get"],
        },
        {
            "apiGroups": ["pipelines.kubeflow.org"],
            "resources": ["pipelines", "experiments"],
            "verbs": ["get", "list"],
        },
    ]
    # The sink KServe's logger posts to: its own account without API access, a volume, a
    # Service on port 80, and ingress from the namespace only.
    deployment = _one(recorder, "kubernetes:apps/v1:Deployment")
    sink_pod = deployment["spec"]["template"]["spec"]
    (sink_container,) = sink_pod["containers"]
    assert sink_container["command"] == ["python3", "-m", "mlcompile.monitor.sink"]
    assert sink_container["securityContext"]["readOnlyRootFilesystem"] is True
    assert sink_pod["automountServiceAccountToken"] is False
    assert sink_pod["serviceAccountName"] == "mlc-dev-kubeflow-churn-requests"
    service = _one(recorder, "kubernetes:core/v1:Service")
    assert service["metadata"]["name"] == "mlc-dev-kubeflow-churn-requests"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    ingress = _one(recorder, "kubernetes:networking.k8s.io/v1:NetworkPolicy")["spec"]["ingress"]
    assert ingress[0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ml-dev"}}}
    ]
    assert _one(recorder, "kubernetes:core/v1:PersistentVolumeClaim")["spec"]["accessModes"] == [
        "ReadWriteOnce"
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
    sink = "http://mlc-dev-kubeflow-churn-requests.ml-dev.svc.cluster.local"
    assert config["requests_url"] == f"{sink}/requests?hours=1"
    assert config["baseline_url"] == f"{sink}/baseline"
    (tmp_path / "token").write_text("projected-token\n")
    config.update(
        requests_url=f"{stand}/requests?hours=1",
        baseline_url=f"{stand}/baseline",
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
    _Stand.files = {
        "/baseline": baseline,
        "/requests": shifted,
        "/apis/v2beta1/pipelines": json.dumps({"pipelines": [{"pipeline_id": "pipeline-1"}]}),
        "/apis/v2beta1/experiments": json.dumps({"experiments": []}),
    }
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
    assert body["service_account"] == "mlc-dev-kubeflow-churn-exec"


@pytest.mark.parametrize("name", ["sagemaker-dev", "vertex-dev", "kubeflow-dev"])
def test_stack_inputs_name_every_resource_validly(name: str) -> None:
    import re

    from mlcompile.monitor.stack import monitor_context
    from tests.conftest import profile

    (entry,) = monitor_context(build_example("churn"), profile(name))
    assert entry["drift"]["endpoint"] == entry["spec"]["endpoint"] != "churn"  # physical name
    for purpose, value in entry["names"].items():
        if purpose == "dataset":  # a BigQuery dataset id: letters, digits, underscores
            assert re.fullmatch(r"[A-Za-z0-9_]{1,1024}", value), value
            continue
        assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value), (purpose, value)
    assert len(entry["names"]["cron_job"]) <= 52 and len(entry["names"]["sink"]) <= 52
    if name.startswith("vertex"):
        assert 6 <= len(entry["names"]["trigger_account"]) <= 30
        assert 6 <= len(entry["names"]["role"]) <= 30
    assert entry["alarms"] == ([entry["names"]["alarm"]] if name.startswith("sagemaker") else [])
