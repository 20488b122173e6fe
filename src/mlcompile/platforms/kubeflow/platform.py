"""The Kubeflow Pipelines platform: ``pipeline.yaml`` (KFP v2 IR plus its Kubernetes platform
document) and, for scheduled pipelines, ``schedule.yaml``.

The spec is written directly as pipeline-spec JSON by the shared lowering, without importing kfp
or protobuf: compiling stays linear in the number of steps and avoids about 2 s of imports. Tests
prove fidelity by parsing every file strictly into the protobufs and running it on kfp's runner.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlcompile.bundle import code_bundle
from mlcompile.errors import Diagnostic, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.ir.features import FeatureUse, Support
from mlcompile.ir.walk import graphs, scoped_tasks
from mlcompile.naming import resource_name
from mlcompile.platforms import BuildOutput, refusal, refusals, unknown_options
from mlcompile.platforms.imports import import_rules
from mlcompile.platforms.kfp_spec import SDK_VERSION, dump_yaml, lower
from mlcompile.platforms.kfp_spec.lower import uses_code_bundle
from mlcompile.platforms.kfp_spec.support import GRAPH_SUPPORT, graph_rules
from mlcompile.platforms.kfp_spec.training import KUBEFLOW_TRAINING, training_rules
from mlcompile.platforms.kubeflow.executors import KubeflowHooks
from mlcompile.platforms.kubeflow.kubernetes import PLATFORM_OPTIONS, in_cluster_secrets
from mlcompile.platforms.kubeflow.schedule import recurring_run, utc_schedule
from mlcompile.platforms.kubeflow.utc_cron import NotExact, describe_offset
from mlcompile.profiles import Profile

_SCHEMES = {"aws": "s3", "gcp": "gs"}
#: The pipeline root of a standalone Kubeflow Pipelines install (its MinIO), used for the code
#: bundle's default location when the profile's cloud has no store KFP's launcher reads.
CLUSTER_DEFAULT_ROOT = "minio://mlpipeline/v2/artifacts"

SUPPORT: dict[str, Support] = {
    **GRAPH_SUPPORT,
    **KUBEFLOW_TRAINING,
    "import-artifact": Support(
        "mapped",
        "an importer task (dsl.importer) of an s3://, gs:// or minio:// URI; no pod runs",
    ),
    "function-step": Support(
        "mapped", "a container running the step from the pipeline's code bundle (image: python3)"
    ),
    "training-step": Support("lowered", "an ordinary step pod (no Training Operator job)"),
    "artifacts": Support("mapped", "system.* artifacts in the pipeline root"),
    "register-model": Support("lowered", "a versioned Model artifact under the pipeline root"),
    "model-approval-parameter": Support("mapped", "recorded in the model's metadata"),
    "serving-image-parameter": Support(
        "mapped", "an input of the registration, recorded in the model's metadata; KServe serves it"
    ),
    "deploy-model": Support("lowered", "a step applying a KServe InferenceService"),
    "monitoring": Support(
        "mapped",
        "KServe's request logger posts the InferenceService's requests to a sink in the"
        " namespace, which also keeps the baseline a publish_baseline step after the deploy step"
        " sends it; a CronJob runs mlcompile's own statistics over the window's requests"
        " (standard library, mounted from a ConfigMap)",
    ),
    "drift-retrain": Support(
        "mapped",
        "the CronJob creates a run of the pipeline with the parameters through the KFP API, as a"
        " service account that may only find pipelines and create runs in the namespace",
    ),
    "drift-alert": Support(
        "lowered",
        "the monitoring Job fails on drift (exit code 3), for the cluster's failed-Job alerting",
    ),
    "model-xgboost": Support(
        "mapped",
        "batch_predict loads the model.bst in the step's image; deploy_model serves it with"
        " KServe's xgboost model format",
    ),
    "model-lightgbm": Support(
        "mapped",
        "batch_predict loads the model.bst (LightGBM's text format) in the step's image;"
        " deploy_model serves it with KServe's lightgbm model format",
    ),
    "model-pytorch": Support(
        "lowered",
        "registered as a folder and scored by a step loading the TorchScript model.pt"
        " (torch.jit.load) in the step's image",
    ),
    "deploy-pytorch": Support(
        "refused",
        "KServe's pytorch model format is served by TorchServe, which reads a model.mar"
        " archive, not the TorchScript model.pt: give register_model(...,"
        " serving_image='<image serving TorchScript>')",
    ),
    "batch-predict": Support("lowered", "a step scoring the data set with the model"),
    "timeout": Support("mapped", "activeDeadlineSeconds (kfp-kubernetes)"),
    "resources": Support(
        "mapped",
        "cpu and memory as requests and limits (limits = requests unless cpu_limit or "
        "memory_limit raises them); disk is refused",
    ),
    "gpu": Support(
        "mapped",
        "accelerator count, GPU model (any platform's spelling, as its canonical name) as a "
        "node selector",
    ),
    "secrets": Support("mapped", "Kubernetes Secret as env (kfp-kubernetes secretAsEnv)"),
    "container-secrets": Support(
        "mapped",
        "secretAsEnv on the container's pod, with secrets_backend kubernetes or azure-key-vault"
        " (synced into Kubernetes Secrets); with a cloud secret manager only mlcompile's step"
        " side can read them, so a container step's secrets are refused",
    ),
    "secret-name-parameter": Support("mapped", "secretNameParameter from the pipeline parameter"),
    "secret-name-output": Support(
        "mapped",
        "secretNameParameter from the producing task's output (resolved by the driver when the"
        " step starts; the task depends on the producer); needs secrets_backend: kubernetes",
    ),
    "schedule": Support(
        "mapped",
        "schedule.yaml, a KFP recurring run; a time zone's cron is rewritten in UTC at the "
        "zone's standard offset (a warning when daylight saving time moves it)",
    ),
    "platform-options": Support("mapped", ", ".join(sorted(PLATFORM_OPTIONS))),
    "image-parameter": Support(
        "mapped",
        "the container's image is a placeholder of an input bound to the parameter, as kfp's"
        " set_container_image(<parameter>) compiles it; the KFP backend must resolve it",
    ),
    "platform-option-parameter": Support(
        "lowered",
        "other platforms' options are ignored here; Kubeflow's own are pod settings of the"
        " compiled platform spec, which takes literals (MLC208)",
    ),
}


def pipeline_root(profile: Profile) -> str | None:
    """The artifact bucket's run folder; KFP's launcher writes to gs:// and s3:// (and minio)."""
    scheme = _SCHEMES.get(profile.cloud)
    if scheme is None:
        return None
    return f"{scheme}://{resource_name(profile, 'artifact-store')}/pipeline-root"


#: What KFP's launcher reads an imported artifact from (its object-store backends).
IMPORT_SCHEMES = ("s3", "gs", "minio")


class KubeflowPlatform:
    name = "kubeflow"
    support: Mapping[str, Support] = SUPPORT

    def check(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        problems = refusals(self, pipeline) + graph_rules(self.name, pipeline)
        problems += import_rules(self.name, pipeline, IMPORT_SCHEMES)
        problems += self._rules(pipeline, profile)
        problems += training_rules(self.name, pipeline)
        if pipeline_root(profile) is None:
            problems.append(
                Diagnostic(
                    "MLC401",
                    f"KFP's launcher cannot write artifacts to {profile.cloud} storage; "
                    "the cluster's default pipeline root (usually its MinIO) is used",
                    pipeline.location.source(),
                    "set the cluster's default pipeline root to an S3-compatible store",
                    severity="warning",
                    platform=self.name,
                )
            )
        return problems

    def _rules(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        if pipeline.schedule is not None:
            out += _schedule_rules(pipeline, pipeline.schedule)
        for graph in graphs(pipeline):
            for scoped in scoped_tasks(graph):
                kind = graph.components[scoped.task.component].kind
                out += self._task_rules(scoped.task, kind, profile)
        return out

    def _task_rules(self, task: ir.Task, kind: str, profile: Profile) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        options = task.options
        if options.resources.disk_bytes:
            out.append(
                refusal(
                    self.name,
                    FeatureUse("resources", task.name, task.location),
                    "KFP has no per-step disk request: drop disk= and give the namespace's "
                    "pods ephemeral storage with a Kubernetes LimitRange",
                )
            )
        if not in_cluster_secrets(profile) and any(
            isinstance(s.name, ir.ParamRef) for s in options.secrets
        ):
            out.append(
                refusal(
                    self.name,
                    FeatureUse("secret-name-parameter", task.name, task.location),
                    f"with secrets_backend {profile.effective_secrets_backend} the step reads "
                    "the secret itself and needs its name at compile time: use a literal name, "
                    "or secrets_backend: kubernetes",
                )
            )
        if options.secrets and kind == "container" and not in_cluster_secrets(profile):
            out.append(
                refusal(
                    self.name,
                    FeatureUse("container-secrets", task.name, task.location),
                    f"with secrets_backend {profile.effective_secrets_backend} a step reads its"
                    " secrets through mlcompile's step side, which a container step does not"
                    " run: use secrets_backend: kubernetes, or read the secret in the"
                    " container's own code",
                )
            )
        if profile.effective_secrets_backend != "kubernetes" and any(
            isinstance(s.name, ir.OutputRef) for s in options.secrets
        ):
            out.append(
                refusal(
                    self.name,
                    FeatureUse("secret-name-output", task.name, task.location),
                    f"with secrets_backend {profile.effective_secrets_backend} the stack grants"
                    " (or syncs) exactly the secrets the pipeline names: use secrets_backend:"
                    " kubernetes, whose driver reads the named Secret when the step starts",
                )
            )
        return out + unknown_options(self.name, PLATFORM_OPTIONS, task)

    def compile(self, pipeline: ir.Pipeline, profile: Profile) -> BuildOutput:
        problems = self.check(pipeline, profile)
        if any(d.severity == "error" for d in problems):
            raise ValidationError(problems)
        ir_hash = content_hash(pipeline)
        name = resource_name(profile, "pipeline", pipeline.name)
        root = pipeline_root(profile)
        bundle = code_bundle(pipeline)
        code_uri = f"{root or CLUSTER_DEFAULT_ROOT}/{bundle.key}"
        hooks = KubeflowHooks(pipeline, profile, name, ir_hash, bundle.sha256)
        lowered = lower(pipeline, hooks, name=name, pipeline_root=root, code_uri=code_uri)
        documents = [lowered.pipeline_spec]
        if lowered.platform_executors:
            executors = dict(sorted(lowered.platform_executors.items()))
            documents.append(
                {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}
            )
        header = [
            "PIPELINE DEFINITION",
            f"Name: {name}",
            f"Compiled by mlcompile for profile {profile.name} ({SDK_VERSION} IR)",
            f"IR hash: {ir_hash}",
        ]
        files = {"pipeline.yaml": dump_yaml(documents, header)}
        if pipeline.schedule is not None:
            schedule = recurring_run(pipeline, profile, root, ir_hash)
            files["schedule.yaml"] = dump_yaml([schedule], ["Recurring run of " + name])
        extra: dict[str, object] = {}
        if uses_code_bundle(lowered.pipeline_spec):
            files[bundle.key] = bundle.data
            extra["code_bundle"] = {"path": bundle.key, "uri": code_uri}
        return BuildOutput(spec="pipeline.yaml", files=files, manifest_extra=extra)


def _schedule_rules(pipeline: ir.Pipeline, schedule: ir.Schedule) -> list[Diagnostic]:
    """A schedule in a time zone runs on the UTC cron of its standard offset: refused when no
    cron fires at the same instants, and a warning when the zone's daylight saving time moves
    the runs by the local clock for part of the year."""
    if schedule.timezone == "UTC":
        return []
    where = pipeline.location.source()
    try:
        utc = utc_schedule(schedule)
    except NotExact as exc:
        return [
            Diagnostic(
                "MLC401",
                f"Kubeflow schedules run in UTC, and cron {schedule.cron!r} in "
                f"{schedule.timezone} has no exact UTC equivalent: {exc}",
                where,
                "write the schedule in UTC (timezone='UTC') at the times you mean, or compile "
                "for a platform whose schedules keep a time zone (Vertex AI, SageMaker)",
                platform="kubeflow",
            )
        ]
    if utc.daylight_offset is None:
        return []
    moved = utc.daylight_offset - utc.standard_offset
    amount = f"{abs(moved) // 60} hour" if abs(moved) % 60 == 0 else f"{abs(moved)} minutes"
    if abs(moved) > 60 and abs(moved) % 60 == 0:
        amount += "s"
    return [
        Diagnostic(
            "MLC410",
            f"Kubeflow schedules run in UTC: cron {schedule.cron!r} in {schedule.timezone} is "
            f"written as {utc.cron!r} in UTC, at the zone's standard offset "
            f"({describe_offset(utc.standard_offset)}); while {schedule.timezone} keeps "
            f"daylight saving time ({describe_offset(utc.daylight_offset)}) the runs come "
            f"{amount} {'later' if moved > 0 else 'earlier'} by the local clock",
            where,
            "compile for a platform whose schedules keep a time zone (Vertex AI, SageMaker), "
            "or accept the shift",
            severity="warning",
            platform="kubeflow",
        )
    ]


PLATFORM = KubeflowPlatform()
