"""`mlcompile deploy`: compile, provision, upload and upsert, start — against local stand-ins.

SageMaker runs against a moto server on 127.0.0.1; Kubeflow against a recording client with the
kfp.Client methods deploy calls (no Kubeflow API server can run here); Pulumi's CLI cannot be
installed here, so provisioning is checked to stop with a clear message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcompile.deploy import kubeflow
from mlcompile.errors import DeployError
from tests.conftest import REPO, profile

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _account_creds(moto_url: str, account: str) -> dict[str, str]:
    """Credentials for ``account`` on the moto server (moto answers an assumed role in another
    account with credentials that act in that account)."""
    import boto3

    sts = boto3.client("sts", endpoint_url=moto_url, **_creds())
    role = f"arn:aws:iam::{account}:role/deployer"
    found = sts.assume_role(RoleArn=role, RoleSessionName="deploy")["Credentials"]
    return {
        "aws_access_key_id": found["AccessKeyId"],
        "aws_secret_access_key": found["SecretAccessKey"],
        "aws_session_token": found["SessionToken"],
        "region_name": "eu-west-1",
    }


def ensure_artifact_bucket(s3: Any, bucket: str = "mlc-dev-artifacts-111122223333") -> None:
    """Create the artifact bucket the platform stack owns in a real account (a deploy never
    creates it), unless it is there already: the tests share one moto server per session."""
    from botocore.exceptions import ClientError

    try:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def _env(creds: dict[str, str]) -> dict[str, str]:
    return {
        **AWS_ENV,
        "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": creds["aws_session_token"],
    }


@pytest.mark.slow
def test_deploy_sagemaker_to_moto(moto_url: str, tmp_path: Path) -> None:
    import boto3

    creds = _account_creds(moto_url, "111122223333")
    env = _env(creds)
    s3 = boto3.client("s3", endpoint_url=moto_url, **creds)
    ensure_artifact_bucket(s3)
    # The moto server is shared by the session: start from no pipeline and no bundle of ours.
    sm = boto3.client("sagemaker", endpoint_url=moto_url, **creds)
    listed = sm.list_pipelines(PipelineNamePrefix="mlc-dev-minimal")["PipelineSummaries"]
    if any(p["PipelineName"] == "mlc-dev-minimal" for p in listed):
        sm.delete_pipeline(PipelineName="mlc-dev-minimal")
    for stale in s3.list_objects_v2(Bucket=_BUCKET, Prefix=_CODE).get("Contents", []):
        s3.delete_object(Bucket=_BUCKET, Key=stale["Key"])
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--no-infra"]
    args += [
        "--endpoint-url",
        moto_url,
        "--out",
        str(tmp_path / "build"),
        "--param",
        "start=4",
        "--json",
    ]
    result = cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    deployment = data["deployment"]
    assert deployment["platform"] == "sagemaker" and deployment["created"]
    assert deployment["execution_arn"] and len(deployment["uploaded"]) == 1
    sm = boto3.client("sagemaker", endpoint_url=moto_url, **creds)
    described = sm.describe_pipeline(PipelineName="mlc-dev-minimal")
    assert described["PipelineDefinition"] == (tmp_path / "build" / "pipeline.json").read_text()
    execution = sm.describe_pipeline_execution(PipelineExecutionArn=deployment["execution_arn"])
    assert execution["PipelineExecutionStatus"] in ("Executing", "Succeeded")

    again = json.loads(cli(*args, "--wait", "60", env=env).stdout)["deployment"]
    assert not again["created"] and again["uploaded"] == []
    assert again["run_state"] == "succeeded"  # moto ends every execution at once

    # A bundle whose key exists with other content is replaced, not trusted.
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=_BUCKET, Prefix=_CODE)["Contents"]]
    s3.put_object(Bucket=_BUCKET, Key=key, Body=b"tampered")
    fixed = json.loads(cli(*args, env=env).stdout)["deployment"]
    assert fixed["uploaded"] == [f"s3://{_BUCKET}/{key}"]
    assert (
        s3.get_object(Bucket=_BUCKET, Key=key)["Body"].read()
        == (tmp_path / "build" / "code" / key.rsplit("/", 1)[-1]).read_bytes()
    )


_BUCKET = "mlc-dev-artifacts-111122223333"
_CODE = "mlc-dev-minimal/code/"


@pytest.mark.slow
def test_deploy_stops_when_the_account_or_region_is_not_the_profile_s(
    moto_url: str, tmp_path: Path
) -> None:
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--no-infra"]
    args += ["--endpoint-url", moto_url, "--out", str(tmp_path / "build"), "--json"]
    other = cli(*args, env=_env(_account_creds(moto_url, "999988887777")))
    assert other.returncode == 1
    report = json.loads(other.stdout)
    assert "account 999988887777" in report["error"] and "111122223333" in report["error"]
    region = cli(
        *args,
        env={**_env(_account_creds(moto_url, "111122223333")), "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert region.returncode == 1 and "us-east-1" in region.stderr and "eu-west-1" in region.stderr
    assert "Traceback" not in region.stderr + other.stderr


@pytest.mark.slow
def test_a_deploy_cut_off_at_any_call_converges_on_rerun(moto_url: str, tmp_path: Path) -> None:
    """The connection is dropped at each AWS call of a deploy in turn; the failure says what
    was done, and running the deploy again reaches the same end state as one clean deploy."""
    import boto3
    import requests
    from botocore.exceptions import EndpointConnectionError

    from mlcompile.deploy import sagemaker

    build = tmp_path / "build"
    result = cli(
        "compile", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--out", str(build)
    )
    assert result.returncode == 0, result.stderr

    def fresh() -> boto3.Session:
        requests.post(f"{moto_url}/moto-api/reset", timeout=10)
        creds = _account_creds(moto_url, "111122223333")
        session = boto3.Session(**creds)
        session.client("s3", endpoint_url=moto_url).create_bucket(
            Bucket=_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        return session

    def end_state(session: boto3.Session) -> dict[str, Any]:
        s3 = session.client("s3", endpoint_url=moto_url)
        sm = session.client("sagemaker", endpoint_url=moto_url)
        objects = {
            o["Key"]: s3.get_object(Bucket=_BUCKET, Key=o["Key"])["Body"].read()
            for o in s3.list_objects_v2(Bucket=_BUCKET).get("Contents", [])
        }
        pipeline = sm.describe_pipeline(PipelineName="mlc-dev-minimal")
        executions = sm.list_pipeline_executions(PipelineName="mlc-dev-minimal")
        return {
            "objects": objects,
            "definition": pipeline["PipelineDefinition"],
            "role": pipeline["RoleArn"],
            "ran": bool(executions["PipelineExecutionSummaries"]),
        }

    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    session = fresh()
    session.events.register("before-send", count)
    sagemaker.deploy(build, profile("sagemaker-dev"), session=session, endpoint_url=moto_url)
    total = len(calls)
    expected = end_state(session)
    assert total >= 5  # identity, bundle check and upload, pipeline lookup, create, start

    for cut in range(total):
        session = fresh()
        seen: list[int] = []

        def drop(request: Any, cut: int = cut, seen: list[int] = seen, **_: Any) -> None:
            # From this call on the connection is gone (botocore's own retries included).
            seen.append(1)
            if len(seen) > cut:
                raise EndpointConnectionError(endpoint_url=str(request.url))

        session.events.register("before-send", drop)
        with pytest.raises(DeployError) as raised:
            sagemaker.deploy(
                build, profile("sagemaker-dev"), session=session, endpoint_url=moto_url
            )
            pytest.fail(f"no failure with the connection cut at call {cut + 1} of {total}: {calls}")
        message = str(raised.value)
        if cut > 0:  # the identity check itself changes nothing
            assert "Already done:" in message and "Run the same deploy again" in message
        session.events.unregister("before-send", drop)
        sagemaker.deploy(build, profile("sagemaker-dev"), session=session, endpoint_url=moto_url)
        assert end_state(session) == expected, f"cut at call {cut + 1} of {total}"


def _creds() -> dict[str, str]:
    return {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "region_name": "eu-west-1",
    }


def test_deploy_with_infra_needs_the_pulumi_cli(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}  # no pulumi on it, whatever the machine has
    result = cli(
        "deploy",
        "examples/minimal/pipeline.py",
        "-t",
        "sagemaker-dev",
        "--out",
        str(tmp_path),
        env=env,
    )
    assert result.returncode == 1
    assert "the Pulumi CLI is not installed" in result.stderr and "Traceback" not in result.stderr
    for kind in ("platform", "pipeline"):
        assert (tmp_path / "infra" / kind / "Pulumi.yaml").exists(), (
            "both projects are generated before provisioning"
        )


def test_deploy_failure_is_reported_in_json_too(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--json"]
    result = cli(*args, "--out", str(tmp_path / "b"), env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and "Pulumi CLI is not installed" in report["error"]


def test_deploy_rejects_a_bad_parameter_before_writing_anything(tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = cli(
        "deploy",
        "examples/churn/pipeline.py",
        "-t",
        "sagemaker-dev",
        "--param",
        "min_auc=abc",
        "--out",
        str(out),
    )
    assert result.returncode == 2, result.stderr + result.stdout
    assert not out.exists(), "nothing is written for bad input"


def test_deploy_refuses_a_pipeline_the_platform_refuses(tmp_path: Path) -> None:
    result = cli(
        "deploy",
        "examples/segments/pipeline.py",
        "-t",
        "sagemaker-dev",
        "--out",
        str(tmp_path / "b"),
    )
    assert result.returncode == 2 and "MLC401" in result.stderr
    assert not (tmp_path / "b").exists(), "nothing is written for a refused pipeline"


@dataclass
class _Obj:
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return self.values[name]


@dataclass
class RecordingClient:
    """The kfp.Client methods deploy uses, recording each call."""

    pipelines: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    schedules: list[_Obj] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _log(self, method: str, **kwargs: Any) -> None:
        self.calls.append((method, kwargs))

    def list_experiments(self, **kwargs: Any) -> _Obj:
        """Deploy's connection check (a read before any write)."""
        return _Obj({"experiments": None})

    def get_pipeline_id(self, name: str) -> str | None:
        return self.pipelines.get(name)

    def upload_pipeline(self, path: str, **kwargs: Any) -> _Obj:
        self._log("upload_pipeline", path=path, **kwargs)
        self.pipelines[kwargs["pipeline_name"]] = "p-1"
        return _Obj({"pipeline_id": "p-1"})

    def upload_pipeline_version(self, path: str, **kwargs: Any) -> _Obj:
        self._log("upload_pipeline_version", path=path, **kwargs)
        name = kwargs["pipeline_version_name"]
        if name in self.versions:  # as the server: version names are unique in a pipeline
            raise RuntimeError(f"(409) AlreadyExists: pipeline version {name!r}")
        self.versions[name] = f"v-{name}"
        return _Obj({"pipeline_version_id": self.versions[name]})

    def list_pipeline_versions(self, pipeline_id: str, **kwargs: Any) -> _Obj:
        """The server's display-name filter (a JSON Filter of EQUALS predicates)."""
        (predicate,) = json.loads(kwargs["filter"])["predicates"]
        assert predicate["operation"] == "EQUALS" and predicate["key"] == "display_name"
        found = self.versions.get(predicate["stringValue"])
        return _Obj(
            {"pipeline_versions": [_Obj({"pipeline_version_id": found})] if found else None}
        )

    def get_experiment(self, **kwargs: Any) -> _Obj:
        raise ValueError("no experiment")

    def create_experiment(self, name: str, **kwargs: Any) -> _Obj:
        self._log("create_experiment", experiment=name, **kwargs)
        return _Obj({"experiment_id": "e-1"})

    def list_recurring_runs(self, **kwargs: Any) -> _Obj:
        return _Obj({"recurring_runs": list(self.schedules)})

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        self._log("delete_recurring_run", id=recurring_run_id)
        self.schedules = [s for s in self.schedules if s.recurring_run_id != recurring_run_id]

    def create_recurring_run(self, experiment_id: str, job_name: str, **kwargs: Any) -> _Obj:
        self._log("create_recurring_run", job_name=job_name, **kwargs)
        run = _Obj({"recurring_run_id": f"r-{len(self.calls)}", "display_name": job_name})
        self.schedules.append(run)
        return run

    def run_pipeline(self, experiment_id: str, job_name: str, **kwargs: Any) -> _Obj:
        self._log("run_pipeline", job_name=job_name, **kwargs)
        return _Obj({"run_id": "run-1"})


@pytest.mark.slow
def test_deploy_kubeflow_versions_schedule_and_run(moto_url: str, tmp_path: Path) -> None:
    import boto3

    from mlcompile.deploy.bundles import S3Store

    build = tmp_path / "build"
    assert (
        cli(
            "compile", "examples/churn/pipeline.py", "-t", "kubeflow-dev", "--out", str(build)
        ).returncode
        == 0
    )
    manifest = json.loads((build / "manifest.json").read_text())
    # The profile's account, which owns the artifact bucket (the server is shared).
    s3 = boto3.client("s3", endpoint_url=moto_url, **_account_creds(moto_url, "111122223333"))
    bucket = "mlc-dev-artifacts-111122223333"
    ensure_artifact_bucket(s3, bucket)
    s3.delete_object(Bucket=bucket, Key=f"pipeline-root/{manifest['code_bundle']['path']}")
    client = RecordingClient()
    first = kubeflow.deploy(
        build,
        profile("kubeflow-dev"),
        client=client,
        parameters={"min_auc": 0.6},
        store=S3Store(s3),
    )
    second = kubeflow.deploy(build, profile("kubeflow-dev"), client=client, store=S3Store(s3))
    # The code bundle is where the spec's importer reads it, byte for byte, uploaded once.
    bundle = manifest["code_bundle"]
    spec = next(yaml.safe_load_all((build / "pipeline.yaml").read_text()))
    default = spec["root"]["inputDefinitions"]["parameters"]["mlcompile_code_uri"]["defaultValue"]
    assert first.uploaded_bundle == bundle["uri"] == default
    assert default == f"s3://{bucket}/pipeline-root/{bundle['path']}"
    body = s3.get_object(Bucket=bucket, Key=f"pipeline-root/{bundle['path']}")["Body"].read()
    assert body == (build / bundle["path"]).read_bytes()
    assert second.uploaded_bundle is None, "an identical bundle is not uploaded again"
    names = [name for name, _ in client.calls]
    assert names.count("upload_pipeline") == 1, "the pipeline is created once, then versioned"
    assert names.count("upload_pipeline_version") == 1, "a rerun reuses the version it uploaded"
    assert first.version_id == second.version_id == f"v-{manifest['ir_hash'][:12]}"
    assert len(client.schedules) == 1, "a redeploy replaces the schedule instead of adding one"
    schedule = dict(next(kw for name, kw in client.calls if name == "create_recurring_run"))
    assert (
        schedule["cron_expression"] == "0 0 3 * * 1"
        and schedule["job_name"] == "mlc-dev-kubeflow-churn-schedule"
    )
    assert schedule["service_account"] == "mlc-dev-kubeflow-churn-exec"
    run = dict(next(kw for name, kw in client.calls if name == "run_pipeline"))
    assert (
        run["params"] == {"min_auc": 0.6}
        and run["service_account"] == "mlc-dev-kubeflow-churn-exec"
    )
    assert second.recurring_run_id != first.recurring_run_id


def test_deploy_kubeflow_without_host_says_what_to_set(tmp_path: Path) -> None:
    build = tmp_path / "build"
    cli("compile", "examples/minimal/pipeline.py", "-t", "kubeflow-dev", "--out", str(build))
    with pytest.raises(DeployError, match=r"no kubeflow\.host"):
        kubeflow.deploy(build, profile("kubeflow-dev"))


@dataclass
class RecordingRegistry:
    uploads: list[tuple[str, list[str]]] = field(default_factory=list)

    def upload_pipeline(self, file_name: str, tags: list[str]) -> tuple[str, str]:
        self.uploads.append((file_name, tags))
        return "mlc-dev-churn", "sha256:abc"


@dataclass
class RecordingJobs:
    requests: list[dict[str, Any]] = field(default_factory=list)

    def create_pipeline_job(self, **request: Any) -> _Obj:
        self.requests.append(request)
        return _Obj({"name": f"{request['parent']}/pipelineJobs/{request['pipeline_job_id']}"})


@dataclass
class RecordingStore:
    """A Cloud Storage stand-in with the two calls the bundle upload makes."""

    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.objects[(bucket, key)] = data


def test_deploy_vertex_publishes_the_template_and_submits_the_compiled_request(
    tmp_path: Path,
) -> None:
    from mlcompile.deploy import vertex

    build = tmp_path / "build"
    assert (
        cli(
            "compile", "examples/churn/pipeline.py", "-t", "vertex-dev", "--out", str(build)
        ).returncode
        == 0
    )
    manifest = json.loads((build / "manifest.json").read_text())
    compiled = json.loads((build / "pipeline_job.json").read_text())
    registry, jobs, store = RecordingRegistry(), RecordingJobs(), RecordingStore()
    result = vertex.deploy(
        build,
        profile("vertex-dev"),
        parameters={"min_auc": 0.75},
        registry=registry,
        jobs=jobs,
        store=store,
        auth=lambda: (None, "mlc-dev-project"),  # google.auth.default for the profile's project
    )
    bundle = manifest["code_bundle"]
    assert store.objects == {
        ("mlc-dev-artifacts-mlc-dev-project", f"runs/{bundle['path']}"): (
            build / bundle["path"]
        ).read_bytes()
    }
    assert result.uploaded_bundle == bundle["uri"]
    template = yaml.safe_load((build / "pipeline.yaml").read_text())
    parameters = template["root"]["inputDefinitions"]["parameters"]
    assert parameters["mlcompile_code_uri"]["defaultValue"] == bundle["uri"]
    assert registry.uploads == [
        (str(build / "pipeline.yaml"), ["latest", manifest["ir_hash"][:12]])
    ]
    assert result.template.startswith(
        "https://europe-west4-kfp.pkg.dev/mlc-dev-project/mlc-dev-churn/"
    )
    (request,) = jobs.requests
    assert request["parent"] == "projects/mlc-dev-project/locations/europe-west4"
    job = request["pipeline_job"]
    assert job["runtimeConfig"]["parameterValues"]["min_auc"] == 0.75
    assert {k: v for k, v in job.items() if k != "runtimeConfig"} == {
        k: v for k, v in compiled.items() if k != "runtimeConfig"
    }, "the submitted job is the compiled request, unchanged but for the parameters"
    assert request["pipeline_job_id"].startswith("mlc-dev-churn-") and result.job_name


class _States:
    """A run that reports each state in turn, as a platform's API would while it runs."""

    def __init__(self, *states: str) -> None:
        self.states = list(states)
        self.asked = 0

    def next(self) -> str:
        self.asked += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def test_wait_polls_each_platform_until_the_run_ends() -> None:
    from types import SimpleNamespace

    from mlcompile.deploy.wait import wait_for_run

    sagemaker_run = _States("Executing", "Executing", "Failed")
    sagemaker = SimpleNamespace(
        describe_pipeline_execution=lambda **_: {"PipelineExecutionStatus": sagemaker_run.next()}
    )
    kubeflow_run = _States("RUNNING", "SUCCEEDED")
    kubeflow = SimpleNamespace(get_run=lambda _id: SimpleNamespace(state=kubeflow_run.next()))
    vertex_run = _States("PIPELINE_STATE_RUNNING", "PIPELINE_STATE_CANCELLED")
    vertex = SimpleNamespace(
        get_pipeline_job=lambda name: SimpleNamespace(state=SimpleNamespace(name=vertex_run.next()))
    )
    cases = [
        ({"platform": "sagemaker", "execution_arn": "arn:x"}, sagemaker, "failed", sagemaker_run),
        ({"platform": "kubeflow", "run_id": "r1"}, kubeflow, "succeeded", kubeflow_run),
        ({"platform": "vertex", "job_name": "projects/p/j"}, vertex, "stopped", vertex_run),
    ]
    for deployment, client, expected, run in cases:
        slept: list[float] = []
        state = wait_for_run(
            deployment,
            profile("sagemaker-dev"),
            timeout=60,
            poll=5,
            client=client,
            sleep=slept.append,
        )
        # Asked until the state was final, with one wait of `poll` between two questions.
        assert state == expected and run.asked == len(slept) + 1 and set(slept) <= {5}


def test_wait_gives_up_at_its_timeout() -> None:
    from types import SimpleNamespace

    from mlcompile.deploy.wait import wait_for_run

    now = [0.0]
    client = SimpleNamespace(get_run=lambda _id: SimpleNamespace(state="RUNNING"))

    def sleep(seconds: float) -> None:
        now[0] += seconds

    state = wait_for_run(
        {"platform": "kubeflow", "run_id": "r1"},
        profile("kubeflow-dev"),
        timeout=30,
        poll=10,
        client=client,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert state == "timed out" and now[0] == 30


def test_wait_without_a_run_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--no-infra"]
    done = cli(*args, "--no-start", "--wait", "10", "--out", str(tmp_path / "build"))
    assert done.returncode == 2 and "MLC602" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "build").exists()
