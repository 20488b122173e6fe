"""Deploy checks who and where it deploys as before any call, and says what it had done when it
fails: Vertex against the caller's Google project (real ``google.auth`` over a credentials file,
or recorded clients), Kubeflow against the profile's API host (a real ``kfp.Client`` where
nothing listens, or a recording client cut off at each call in turn)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlcompile.deploy import kubeflow, vertex
from mlcompile.errors import DeployError
from mlcompile.profiles import KubeflowSettings, Profile
from tests.conftest import profile
from tests.deploy.test_deploy import (
    RecordingClient,
    RecordingJobs,
    RecordingRegistry,
    RecordingStore,
    cli,
)


@pytest.fixture(scope="module")
def vertex_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("vertex") / "build"
    result = cli("compile", "examples/minimal/pipeline.py", "-t", "vertex-dev", "--out", str(build))
    assert result.returncode == 0, result.stderr
    return build


@pytest.fixture(scope="module")
def kubeflow_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("kubeflow") / "build"
    result = cli("compile", "examples/churn/pipeline.py", "-t", "kubeflow-dev", "--out", str(build))
    assert result.returncode == 0, result.stderr
    return build


@dataclass
class FakeCredentials:
    """What ``google.auth.default`` hands back, as far as deploy reads it."""

    quota_project_id: str | None = None


def _auth(project: str | None, quota: str | None = None) -> Callable[[], tuple[Any, str | None]]:
    return lambda: (FakeCredentials(quota), project)


def _clients() -> tuple[RecordingRegistry, RecordingJobs, RecordingStore]:
    return RecordingRegistry(), RecordingJobs(), RecordingStore()


@pytest.mark.parametrize(
    ("project", "quota", "region", "expected"),
    [
        ("other-project", None, None, "project other-project"),
        ("mlc-dev-project", "other-project", None, "quota project other-project"),
        (None, None, None, "GOOGLE_CLOUD_PROJECT=mlc-dev-project"),
        ("mlc-dev-project", None, "us-central1", "CLOUDSDK_AI_REGION is us-central1"),
    ],
)
def test_vertex_deploy_stops_before_any_call_when_the_caller_is_elsewhere(
    vertex_build: Path,
    monkeypatch: pytest.MonkeyPatch,
    project: str | None,
    quota: str | None,
    region: str | None,
    expected: str,
) -> None:
    for variable in vertex.REGION_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    if region:
        monkeypatch.setenv("CLOUDSDK_AI_REGION", region)
    registry, jobs, store = _clients()
    with pytest.raises(DeployError) as raised:
        vertex.deploy(
            vertex_build,
            profile("vertex-dev"),
            registry=registry,
            jobs=jobs,
            store=store,
            auth=_auth(project, quota),
        )
    message = str(raised.value)
    assert expected in message and "nothing was changed" in message
    assert "mlc-dev-project" in message or "europe-west4" in message
    assert registry.uploads == [] and jobs.requests == [] and store.objects == {}


def test_vertex_deploy_without_credentials_says_how_to_sign_in(
    vertex_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.auth.exceptions import DefaultCredentialsError

    def none() -> tuple[Any, str | None]:
        raise DefaultCredentialsError("Your default credentials were not found.")

    registry, jobs, store = _clients()
    with pytest.raises(DeployError, match="gcloud auth application-default login"):
        vertex.deploy(
            vertex_build,
            profile("vertex-dev"),
            registry=registry,
            jobs=jobs,
            store=store,
            auth=none,
        )
    assert registry.uploads == [] and store.objects == {}


@dataclass
class FailingJobs:
    """The job service refusing the create call, as an outage would."""

    def create_pipeline_job(self, **request: Any) -> Any:
        raise ConnectionError("connection reset by peer")


def test_vertex_failure_lists_what_was_done_and_a_rerun_resumes(
    vertex_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in vertex.REGION_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    registry, jobs, store = _clients()
    with pytest.raises(DeployError) as raised:
        vertex.deploy(
            vertex_build,
            profile("vertex-dev"),
            registry=registry,
            jobs=FailingJobs(),
            store=store,
            auth=_auth("mlc-dev-project"),
        )
    message = str(raised.value)
    bundle = json.loads((vertex_build / "manifest.json").read_text())["code_bundle"]["uri"]
    assert "connection reset by peer" in message
    assert f"uploaded {bundle}" in message and "published template" in message
    assert "Run the same deploy again" in message
    uploaded = dict(store.objects)
    done = vertex.deploy(
        vertex_build,
        profile("vertex-dev"),
        registry=registry,
        jobs=jobs,
        store=store,
        auth=_auth("mlc-dev-project", "mlc-dev-project"),
    )
    assert done.uploaded_bundle is None and store.objects == uploaded, "the bundle is kept"
    assert done.job_name and len(jobs.requests) == 1


def _google_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's application-default credentials file, and no gcloud configuration: the real
    ``google.auth.default`` reads it offline (no token is fetched before a call)."""
    credentials = tmp_path / "adc.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "deploy-test.apps.googleusercontent.com",
                "client_secret": "not-used",
                "refresh_token": "not-used",
            }
        )
    )
    (tmp_path / "gcloud").mkdir(exist_ok=True)
    return {
        "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "GOOGLE_CLOUD_PROJECT": "",
        "CLOUDSDK_AI_REGION": "",
        "GOOGLE_CLOUD_REGION": "",
        "CLOUDSDK_COMPUTE_REGION": "",
        **extra,
    }


def test_vertex_deploy_in_another_project_fails_in_json_with_exit_1(tmp_path: Path) -> None:
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "vertex-dev", "--no-infra"]
    args += ["--out", str(tmp_path / "build"), "--json"]
    result = cli(*args, env=_google_env(tmp_path, GOOGLE_CLOUD_PROJECT="someone-elses"))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["exit_code"] == 1
    assert "project someone-elses" in report["error"] and "mlc-dev-project" in report["error"]
    assert "nothing was changed" in report["error"]
    assert "Traceback" not in result.stderr


# ----- Kubeflow ---------------------------------------------------------------------------------


def test_kubeflow_deploy_without_host_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "build"
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "kubeflow-dev", "--no-infra"]
    result = cli(*args, "--out", str(out))
    assert result.returncode == 2, result.stderr + result.stdout
    line = next(
        i
        for i, text in enumerate(Path("targets/kubeflow-dev.yaml").read_text().splitlines(), 1)
        if text.startswith("kubeflow:")
    )
    assert f"targets/kubeflow-dev.yaml:{line}: error MLC603" in result.stderr, result.stderr
    assert "kubeflow.host" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists(), "nothing is written for bad input"
    machine = cli(*args, "--out", str(out), "--json")
    assert machine.returncode == 2
    (diagnostic,) = json.loads(machine.stdout)["diagnostics"]
    assert diagnostic["code"] == "MLC603" and not out.exists()


def _with_host(host: str) -> Profile:
    base = profile("kubeflow-dev")
    return base.model_copy(
        update={"kubeflow": KubeflowSettings(namespace=base.kubeflow.namespace, host=host)}
    )


def test_kubeflow_deploy_checks_the_connection_before_uploading(kubeflow_build: Path) -> None:
    """A real kfp.Client at an address where nothing listens: nothing is uploaded."""
    import socket

    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RecordingStore()
    with pytest.raises(DeployError) as raised:
        kubeflow.deploy(kubeflow_build, _with_host(f"http://127.0.0.1:{port}"), store=store)
    message = str(raised.value)
    assert f"cannot reach the Kubeflow Pipelines API at http://127.0.0.1:{port}" in message
    assert "nothing was changed" in message and "ml-dev" in message
    assert store.objects == {}


@dataclass
class Cut:
    """Every API call (the client's and the store's) counted; from call ``at`` on, each fails
    as a dropped connection would."""

    at: int | None = None
    calls: list[str] = field(default_factory=list)

    def __call__(self, name: str) -> None:
        self.calls.append(name)
        if self.at is not None and len(self.calls) > self.at:
            raise ConnectionError(f"connection dropped at {name}")


class CutClient:
    def __init__(self, inner: RecordingClient, cut: Cut) -> None:
        self.inner, self.cut = inner, cut

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.cut(name)
            return method(*args, **kwargs)

        return call


class CutStore:
    def __init__(self, inner: RecordingStore, cut: Cut) -> None:
        self.inner, self.cut = inner, cut

    def exists(self, bucket: str, key: str) -> bool:
        self.cut("exists")
        return self.inner.exists(bucket, key)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.cut("put")
        self.inner.put(bucket, key, data)


def _end_state(client: RecordingClient, store: RecordingStore) -> dict[str, Any]:
    return {
        "pipelines": dict(client.pipelines),
        "versions": dict(client.versions),
        "schedules": sorted(s.display_name for s in client.schedules),
        "objects": dict(store.objects),
        "ran": any(name == "run_pipeline" for name, _ in client.calls),
    }


def test_kubeflow_deploy_cut_off_at_any_call_says_what_was_done_and_converges(
    kubeflow_build: Path,
) -> None:
    target = _with_host("http://ml-pipeline.kubeflow:8888")
    clean, clean_store, counter = RecordingClient(), RecordingStore(), Cut()
    kubeflow.deploy(
        kubeflow_build,
        target,
        client=CutClient(clean, counter),
        store=CutStore(clean_store, counter),
    )
    expected, total = _end_state(clean, clean_store), len(counter.calls)
    assert total >= 8, counter.calls  # check, bundle, pipeline, version, experiment, schedule, run
    for at in range(total):
        client, store, cut = RecordingClient(), RecordingStore(), Cut(at)
        with pytest.raises(DeployError) as raised:
            kubeflow.deploy(
                kubeflow_build, target, client=CutClient(client, cut), store=CutStore(store, cut)
            )
        message = str(raised.value)
        if at == 0:
            assert "cannot reach" in message and "nothing was changed" in message
        else:
            assert "Already done:" in message and "Run the same deploy again" in message
            if store.objects:
                assert "uploaded s3://" in message
            if client.pipelines:
                assert "created pipeline" in message
        cut.at = None
        kubeflow.deploy(
            kubeflow_build, target, client=CutClient(client, cut), store=CutStore(store, cut)
        )
        assert _end_state(client, store) == expected, f"cut at call {at + 1} of {total}"
