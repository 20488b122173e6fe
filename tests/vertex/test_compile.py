"""Compiling to Vertex AI: golden files, strict protobuf parses, the request aiplatform builds
from the same files, Vertex-native components, refusals, determinism, and light CLI paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from mlcompile.errors import ValidationError
from mlcompile.ir.canonical import content_hash
from mlcompile.loader import load
from mlcompile.platforms import get
from mlcompile.profiles import load_profile
from tests.conftest import (
    GOLDEN_SOURCES,
    REFUSED_ON,
    REPO,
    assert_golden,
    build_example,
    golden_files,
    profile,
)
from tests.kubeflow.kfp_checks import strict_parse

HERE = REPO / "tests" / "vertex"
REFUSED = HERE / "refused"
GOLDEN = REPO / "tests" / "golden" / "vertex"
SOURCES = {k: v for k, v in GOLDEN_SOURCES.items() if "vertex" not in REFUSED_ON.get(k, ())}
REFUSED_SOURCES = sorted(set(GOLDEN_SOURCES) - set(SOURCES))
LAUNCHER = "google_cloud_pipeline_components.container.v1.{}.launcher"
GCPC_IMAGE = "gcr.io/ml-pipeline/google-cloud-pipeline-components:2.22.0"


def _compile(path: Path, target: str = "vertex-dev") -> dict[str, bytes]:
    prof = profile(target) if "/" not in target else load_profile(target)[0]
    return get("vertex").compile(load(str(path)).build(), prof).files


@pytest.fixture(scope="module")
def compiled() -> dict[str, dict[str, bytes]]:
    return {name: _compile(path) for name, path in SOURCES.items()}


def _spec(files: dict[str, bytes]) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(files["pipeline.yaml"])
    return spec


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_golden(name: str, compiled: dict[str, dict[str, bytes]]) -> None:
    for rel, data in sorted(golden_files(compiled[name]).items()):
        assert_golden(GOLDEN / name / rel, data)


@pytest.mark.parametrize("name", REFUSED_SOURCES)
def test_golden_refusal(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        _compile(GOLDEN_SOURCES[name])
    report = [d.to_json() for d in err.value.diagnostics]
    assert report and all(d["code"] == "MLC401" for d in report)
    assert_golden(GOLDEN / name / "refused.json", json.dumps(report, indent=2) + "\n")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_strict_parse_one_document(
    name: str, compiled: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(compiled[name]["pipeline.yaml"])
    docs = strict_parse(path)
    assert len(docs) == 1, "Vertex rejects a second (platform) document"
    request = json.loads(compiled[name]["pipeline_job.json"])
    assert request["pipelineSpec"] == docs[0]


def _job(files: dict[str, bytes], folder: Path, project: str, location: str) -> Any:
    """aiplatform's PipelineJob from the compiled files, offline."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    (folder / "pipeline.yaml").write_bytes(files["pipeline.yaml"])
    request = json.loads(files["pipeline_job.json"])
    return aiplatform.PipelineJob(
        display_name=request["displayName"],
        template_path=str(folder / "pipeline.yaml"),
        pipeline_root=request["runtimeConfig"]["gcsOutputDirectory"],
        parameter_values=request["runtimeConfig"].get("parameterValues", {}),
        labels=request["labels"],
        encryption_spec_key_name=request["encryptionSpec"]["kmsKeyName"],
        project=project,
        location=location,
        credentials=AnonymousCredentials(),
    )


def _submitted(job: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The request aiplatform sends on submit (service account and network are set only there),
    with the API client and the bucket check replaced so nothing leaves the machine."""
    sent: dict[str, Any] = {}

    def create(parent: str, pipeline_job: Any, pipeline_job_id: str, timeout: Any) -> Any:
        sent["job"] = pipeline_job
        pipeline_job.name = f"{parent}/pipelineJobs/{pipeline_job_id}"
        return pipeline_job

    job.api_client = mock.Mock()
    job.api_client.create_pipeline_job.side_effect = create
    with mock.patch(
        "google.cloud.aiplatform.pipeline_jobs.gcs_utils."
        "create_gcs_bucket_for_pipeline_artifacts_if_it_does_not_exist"
    ):
        job.submit(service_account=request["serviceAccount"], network=request.get("network"))
    out: dict[str, Any] = job.to_dict()
    out.pop("name")
    return out


def _as_aiplatform_writes(request: dict[str, Any]) -> dict[str, Any]:
    """aiplatform keeps parameter values as protobuf Values: integers come back as floats.
    Nothing else is normalised."""
    out = json.loads(json.dumps(request))
    values = out["runtimeConfig"].get("parameterValues", {})
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool):
            values[key] = float(value)
    return out


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_aiplatform_builds_the_same_request(
    name: str, compiled: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    prof = profile("vertex-dev")
    request = json.loads(compiled[name]["pipeline_job.json"])
    job = _job(compiled[name], tmp_path, prof.account, prof.region)
    assert _submitted(job, request) == _as_aiplatform_writes(request)


def test_network_and_external_key(tmp_path: Path) -> None:
    target = str(HERE / "private-network.yaml")
    files = _compile(REPO / "examples" / "churn" / "pipeline.py", target)
    request = json.loads(files["pipeline_job.json"])
    assert request["network"] == "projects/123456789012/global/networks/ml-vpc"
    key = "projects/mlc-prod-project/locations/us-central1/keyRings/shared/cryptoKeys/ml"
    assert request["encryptionSpec"] == {"kmsKeyName": key}
    job = _job(files, tmp_path, "mlc-prod-project", "us-central1")
    assert _submitted(job, request) == _as_aiplatform_writes(request)
    train = _spec(files)["components"]["comp-train"]["inputDefinitions"]["parameters"]
    assert train["network"]["defaultValue"] == request["network"]
    pool = train["worker_pool_specs"]["defaultValue"][0]
    assert pool["machine_spec"] == {"machine_type": "n1-highmem-8"}, "profile override"


def test_labels_and_ir_hash(compiled: dict[str, dict[str, bytes]]) -> None:
    ir_hash = content_hash(build_example("churn"))
    request = json.loads(compiled["example-churn"]["pipeline_job.json"])
    labels = request["labels"]
    assert labels["mlcompile-ir-hash"] == ir_hash[:16]
    for key, value in labels.items():
        assert len(key) <= 63 and len(value) <= 63 and key == key.lower() and value == value.lower()
    info = request["pipelineSpec"]["pipelineInfo"]
    assert info["description"].endswith(f"mlcompile IR sha256:{ir_hash}")
    assert request["serviceAccount"] == "mlc-dev-churn@mlc-dev-project.iam.gserviceaccount.com"
    assert request["runtimeConfig"] == {
        "gcsOutputDirectory": "gs://mlc-dev-artifacts-mlc-dev-project/runs",
        "parameterValues": {
            "approval": "PendingManualApproval",
            "min_auc": 0.7,
            "n_estimators": 100,
            "rows": 2000,
            "seed": 7,
        },
    }


def _container(spec: dict[str, Any], executor: str) -> dict[str, Any]:
    container: dict[str, Any] = spec["deploymentSpec"]["executors"][executor]["container"]
    return container


def test_vertex_native_components(compiled: dict[str, dict[str, bytes]]) -> None:
    spec = _spec(compiled["example-churn"])
    for executor, module in (
        ("exec-train", "custom_job"),
        ("exec-model-upload", "model.upload_model"),
        ("exec-model-deploy", "endpoint.deploy_model"),
        ("exec-model-batch-predict", "batch_prediction_job"),
    ):
        container = _container(spec, executor)
        assert container["image"] == GCPC_IMAGE
        assert container["command"] == ["python3", "-u", "-m", LAUNCHER.format(module)]
    train = spec["components"]["comp-train"]["inputDefinitions"]["parameters"]
    pool = train["worker_pool_specs"]["defaultValue"][0]
    assert pool["machine_spec"] == {"machine_type": "n1-standard-4"}
    assert pool["container_spec"]["args"][:2] == ["--executor_input", "{{$.json_escape[1]}}"]
    assert train["timeout"]["defaultValue"] == "1800s", "the step's timeout on the custom job"
    register = spec["components"]["comp-register-model"]
    upload = register["dag"]["tasks"]["model-upload"]["inputs"]
    assert upload["artifacts"]["unmanaged_container_model"]["taskOutputArtifact"] == {
        "outputArtifactKey": "container_model",
        "producerTask": "stage-model",
    }
    assert upload["parameters"]["display_name"]["runtimeValue"]["constant"] == "mlc-dev-churn"
    stage = _container(spec, "exec-stage-model")["args"]
    config = json.loads(stage[stage.index("--config") + 1])
    assert config["serving_image"] == (
        "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest"
    )
    deploy = spec["components"]["comp-deploy-model"]
    assert deploy["inputDefinitions"]["artifacts"]["model"]["artifactType"]["schemaTitle"] == (
        "google.VertexModel"
    )
    params = deploy["dag"]["tasks"]["model-deploy"]["inputs"]["parameters"]
    assert params["dedicated_resources_machine_type"]["runtimeValue"]["constant"] == "n1-standard-2"
    importer = spec["deploymentSpec"]["executors"]["exec-import-endpoint"]["importer"]
    assert importer["typeSchema"]["schemaTitle"] == "google.VertexEndpoint"


def test_secrets_are_names_read_at_run_time(compiled: dict[str, dict[str, bytes]]) -> None:
    args = _container(_spec(compiled["example-churn"]), "exec-evaluate")["args"]
    assert json.loads(args[args.index("--secrets") + 1]) == [
        {
            "env": "WAREHOUSE_TOKEN",
            "key": None,
            "name": "projects/mlc-dev-project/secrets/churn-warehouse-token/versions/latest",
        }
    ]
    assert json.loads(args[args.index("--secrets-backend") + 1]) == "gcp-secret-manager"


def test_secret_named_by_a_parameter(compiled: dict[str, dict[str, bytes]]) -> None:
    spec = _spec(compiled["example-retrain"])
    task = spec["root"]["dag"]["tasks"]["train"]
    assert task["inputs"]["parameters"]["mlcompile_secret_0"] == {
        "componentInputParameter": "warehouse_secret"
    }
    params = spec["components"]["comp-train"]["inputDefinitions"]["parameters"]
    args = params["worker_pool_specs"]["defaultValue"][0]["container_spec"]["args"]
    (secret,) = json.loads(args[args.index("--secrets") + 1])
    assert secret["name"] == (
        "projects/mlc-dev-project/secrets/"
        "{{$.inputs.parameters['mlcompile_secret_0']}}/versions/latest"
    )


def test_registered_model_batch_predict(compiled: dict[str, dict[str, bytes]]) -> None:
    spec = _spec(compiled["case-literal_fan_in"])
    batch = spec["components"]["comp-batch-predict"]
    assert "stage-model" not in batch["dag"]["tasks"], "a registered model is used as is"
    inputs = batch["dag"]["tasks"]["batch-predict"]["inputs"]["artifacts"]
    assert inputs == {"model": {"componentInputArtifact": "model"}}


def test_gpu_on_a_container_task(compiled: dict[str, dict[str, bytes]]) -> None:
    spec = _spec(compiled["case-step_options"])
    train = spec["components"]["comp-warm-up"]["inputDefinitions"]["parameters"]
    pool = train["worker_pool_specs"]["defaultValue"][0]
    assert pool["machine_spec"] == {
        "accelerator_count": 1.0,
        "accelerator_type": "NVIDIA_TESLA_T4",
        "machine_type": "n1-standard-4",
    }, "a timeout makes the step a custom job"
    assert train["timeout"]["defaultValue"] == "5400s"


def test_gcpc_components_match_gcpc() -> None:
    """The table of GCPC components is what the installed GCPC compiles, minus documentation."""
    from google.protobuf import json_format
    from google_cloud_pipeline_components import __version__
    from google_cloud_pipeline_components.v1.batch_predict_job import ModelBatchPredictOp
    from google_cloud_pipeline_components.v1.custom_job import CustomTrainingJobOp
    from google_cloud_pipeline_components.v1.endpoint import ModelDeployOp
    from google_cloud_pipeline_components.v1.model import ModelUploadOp

    from mlcompile.platforms.vertex.gcpc import COMPONENTS, GCPC_VERSION

    def undocumented(value: Any) -> Any:
        if isinstance(value, dict):
            # A documentation string is dropped; a *parameter* named description (a dict, as
            # ModelUploadOp's) is interface and kept.
            return {
                k: undocumented(v)
                for k, v in value.items()
                if not (k == "description" and isinstance(v, str))
            }
        return [undocumented(v) for v in value] if isinstance(value, list) else value

    assert __version__ == GCPC_VERSION
    ops = {
        "custom_job": CustomTrainingJobOp,
        "model_upload": ModelUploadOp,
        "model_deploy": ModelDeployOp,
        "model_batch_predict": ModelBatchPredictOp,
    }
    for key, op in ops.items():
        package = op.pipeline_spec
        (executor,) = package.deployment_spec["executors"].values()
        root = json_format.MessageToDict(package.root)
        expected = {
            "interface": undocumented(
                {k: root[k] for k in ("inputDefinitions", "outputDefinitions") if k in root}
            ),
            "executor": json_format.MessageToDict(executor),
        }
        assert COMPONENTS[key] == expected, key


def test_endpoint_is_the_one_the_stack_creates() -> None:
    """The stack names the endpoint with the same function; the spec deploys to that id."""
    from mlcompile.naming import resource_name, vertex_endpoint_id
    from mlcompile.platforms import get

    target = profile("vertex-dev")
    spec = get("vertex").compile(build_example("churn"), target).files["pipeline.yaml"].decode()
    expected = vertex_endpoint_id(resource_name(target, "endpoint", "churn"))
    assert f"/endpoints/{expected}" in spec


REFUSALS = [
    ("tests/vertex/refused/unknown_option.py", "vertex-dev", "MLC205", 15),
    ("tests/vertex/refused/gpu_type.py", "vertex-dev", "MLC401", 15),
    ("tests/vertex/refused/too_large.py", "vertex-dev", "MLC401", 15),
    (
        "tests/vertex/refused/kubernetes_secret.py",
        str(HERE / "kubernetes-secrets.yaml"),
        "MLC401",
        15,
    ),
    ("tests/vertex/refused/container_secret.py", "vertex-dev", "MLC401", 15),
]


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("file", "target", "code", "line"), REFUSALS)
def test_refusal_diagnostics(file: str, target: str, code: str, line: int, tmp_path: Path) -> None:
    result = _cli("compile", file, "--target", target, "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 2, result.stderr
    diagnostics = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["file"], d["line"]) for d in diagnostics] == [(code, file, line)]
    assert not (tmp_path / "out").exists()


def test_kubeflow_options_are_reported_not_dropped(tmp_path: Path) -> None:
    result = _cli("check", "tests/cases/step_options.py", "--target", "vertex-dev", "--json")
    assert result.returncode == 0, result.stderr
    (warning,) = json.loads(result.stdout)["diagnostics"]
    assert (warning["code"], warning["severity"], warning["line"]) == ("MLC401", "warning", 31)
    assert "platform_options['kubeflow'] (node_selector)" in warning["message"]


def test_every_feature_has_a_stance() -> None:
    from mlcompile.ir.features import FEATURES

    assert set(get("vertex").support) == set(FEATURES)


def test_manifest(tmp_path: Path) -> None:
    result = _cli(
        "compile", "examples/churn/pipeline.py", "--target", "vertex-dev", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["spec"] == "pipeline_job.json"
    assert manifest["template"] == "pipeline.yaml"
    assert manifest["versions"]["google-cloud-pipeline-components"] == "2.22.0"
    (bundle,) = [f for f in manifest["files"] if f.startswith("code/")]
    assert sorted(manifest["files"]) == [
        bundle,
        "pipeline.yaml",
        "pipeline_job.json",
        "report.html",
    ]
    assert manifest["code_bundle"] == {
        "path": bundle,
        "uri": f"gs://mlc-dev-artifacts-mlc-dev-project/runs/{bundle}",
    }


def test_a_runs_image_and_machine_reach_the_custom_job() -> None:
    """The worker pool's image and machine are placeholders of launcher inputs bound to the
    pipeline's parameters, filled in when the job is created."""
    pipeline = load("tests/cases/image_parameter.py").build()
    spec = yaml.safe_load(
        get("vertex").compile(pipeline, profile("vertex-dev")).files["pipeline.yaml"]
    )
    launcher = spec["components"]["comp-fit"]["inputDefinitions"]["parameters"]
    pool = launcher["worker_pool_specs"]["defaultValue"][0]
    assert pool["container_spec"]["image_uri"] == "{{$.inputs.parameters['mlcompile_image']}}"
    assert pool["machine_spec"]["machine_type"] == (
        "{{$.inputs.parameters['mlcompile_machine_type']}}"
    )
    bound = spec["root"]["dag"]["tasks"]["fit"]["inputs"]["parameters"]
    assert bound["mlcompile_image"] == {"componentInputParameter": "trainer_image"}
    assert bound["mlcompile_machine_type"] == {"componentInputParameter": "trainer_machine"}
    assert {"mlcompile_image", "mlcompile_machine_type"} <= set(launcher)
