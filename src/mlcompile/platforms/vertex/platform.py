"""Vertex AI Pipelines: ``pipeline.yaml`` (KFP v2 IR, one document) and ``pipeline_job.json``
(the ``pipelineJobs.create`` request: that spec plus its runtime config, labels, service
account, CMEK key and network).

The graph is the shared KFP lowering Kubeflow uses; Vertex differs in its executors (custom
jobs and GCPC's model registry, endpoint and batch prediction launchers), in the artifact type
of a registered model (``google.VertexModel``), and in having no platform document: Vertex
rejects a second YAML document, so Kubernetes settings are refused or mapped to Vertex's own.

Nothing here imports aiplatform or GCPC: the request is plain JSON in the REST API's shape and
the GCPC components are written from a table, so a cold compile costs a fraction of importing
aiplatform. Tests build ``aiplatform.PipelineJob`` from the files to prove the request matches.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlcompile.build import json_bytes
from mlcompile.bundle import code_bundle
from mlcompile.errors import Diagnostic, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.ir.features import FeatureUse, Support
from mlcompile.ir.walk import graphs, scoped_tasks
from mlcompile.platforms import BuildOutput, refusal, refusals, unknown_options
from mlcompile.platforms.imports import import_rules
from mlcompile.platforms.kfp_spec import SDK_VERSION, dump_yaml, lower
from mlcompile.platforms.kfp_spec.lower import uses_code_bundle
from mlcompile.platforms.kfp_spec.support import GRAPH_SUPPORT, graph_rules
from mlcompile.platforms.kfp_spec.training import VERTEX_TRAINING, training_rules
from mlcompile.platforms.kfp_spec.types import SCHEMA_TITLES
from mlcompile.platforms.vertex.executors import VertexHooks, runs_as_custom_job
from mlcompile.platforms.vertex.gcpc import GCPC_VERSION
from mlcompile.platforms.vertex.job import description, pipeline_job, target
from mlcompile.platforms.vertex.machines import NoGpuType, NoMachine, accelerator, machine_spec
from mlcompile.profiles import Profile

#: A registered model is a Vertex Model Registry entry, the type GCPC's deploy and batch ops take.
VERTEX_SCHEMA_TITLES: Mapping[str, str] = {**SCHEMA_TITLES, "RegisteredModel": "google.VertexModel"}

#: platform_options={"vertex": {...}} keys and what each sets.
PLATFORM_OPTIONS = {
    "machine_type": "the machine of the step's custom job, deployment or batch prediction job",
}

SUPPORT: dict[str, Support] = {
    **GRAPH_SUPPORT,
    **VERTEX_TRAINING,
    "import-artifact": Support(
        "mapped", "an importer task (dsl.importer) of a gs:// URI; no job runs"
    ),
    "function-step": Support(
        "mapped", "a container task running the step from the pipeline's code bundle"
    ),
    "training-step": Support(
        "mapped",
        "a Vertex custom job through GCPC's custom job launcher (CustomTrainingJobOp); an input "
        "or output named like a launcher input (labels, project, location...) is step_<name> "
        "in the job's interface, and the function still gets it under its own name",
    ),
    "artifacts": Support("mapped", "system.* artifacts under gs://<artifact store>/runs"),
    "register-model": Support(
        "lowered",
        "a step staging the model folder for the prebuilt serving image, then GCPC "
        "ModelUploadOp into the Vertex Model Registry",
    ),
    "model-approval-parameter": Support(
        "lowered", "the Model Registry has no approval status: an 'approval' label on the model"
    ),
    "serving-image-parameter": Support(
        "mapped", "an input of the staging step: the uploaded model's containerSpec.imageUri"
    ),
    "monitoring": Support(
        "lowered",
        "the endpoint logs its requests to a CMEK BigQuery dataset; a Cloud Run job, run by Cloud"
        " Scheduler on the monitor's schedule, computes mlcompile's own statistics and thresholds"
        " over the window's requests against the baseline a publish_baseline step after the"
        " deploy step copies to monitoring/<endpoint>/ in the artifact bucket (Vertex's model"
        " monitoring measures other distances, so it is not used)",
    ),
    "drift-retrain": Support(
        "mapped",
        "on drift the job publishes to a drift Pub/Sub topic; Eventarc runs a Workflow that"
        " creates the pipeline job (the schedule's request) with the parameters",
    ),
    "drift-alert": Support(
        "mapped",
        "on drift the job publishes its report to the stack's alert topic; a failed check alerts"
        " the stack's channel",
    ),
    "deploy-model": Support(
        "mapped", "GCPC ModelDeployOp onto the stack's endpoint, imported as google.VertexEndpoint"
    ),
    "model-xgboost": Support(
        "mapped",
        "the prebuilt xgboost-cpu prediction image (2.1 unless framework_version names"
        " another) reads the model.bst Model.save wrote, as a Booster: a scikit-learn-API"
        " classifier answers with probabilities there, where the emulator and every other"
        " platform answer with its labels",
    ),
    "model-lightgbm": Support(
        "refused",
        "Vertex AI has no prebuilt prediction container for LightGBM: give register_model(...,"
        " serving_image='<image serving lightgbm>') (a custom container), or run on Kubeflow",
    ),
    "model-pytorch": Support(
        "refused",
        "Vertex AI's prebuilt PyTorch containers are TorchServe, which reads a model.mar"
        " archive, not the TorchScript model.pt Model.save writes: give register_model(...,"
        " serving_image='<image serving TorchScript>') (a custom container)",
    ),
    "deploy-pytorch": Support(
        "refused", "a PyTorch model cannot be registered here (the PyTorch model row says why)"
    ),
    "batch-predict": Support(
        "lowered",
        "a step writing JSON-lines instances, then GCPC ModelBatchPredictOp; a model nothing"
        " registers is staged for the prebuilt image of batch_predict's framework= (else the"
        " one its training step's packages use)",
    ),
    "timeout": Support(
        "lowered",
        "a Vertex container task has no timeout: the step runs as a custom job with "
        "scheduling.timeout",
    ),
    "resources": Support(
        "mapped",
        "cpu and memory limits on a container task, a machine type from the table for custom "
        "jobs and deployments; a disk request runs the step as a custom job (boot disk); "
        "cpu_limit and memory_limit are not used: each step has its own machine, sized by "
        "the requests",
    ),
    "gpu": Support(
        "mapped",
        "the Vertex accelerator type (from any platform's spelling: A100, nvidia-tesla-a100, "
        "NVIDIA_TESLA_A100) and count",
    ),
    "secrets": Support(
        "mapped", "read from Secret Manager by the step at run time, as the pipeline's identity"
    ),
    "secret-name-parameter": Support(
        "mapped", "the name reaches the step as an input substituted into its secret reference"
    ),
    "container-secrets": Support(
        "refused",
        "a Vertex container task has no way to receive a secret, and a container step runs its"
        " own command, not mlcompile's step side that reads Secret Manager: read the secret in"
        " a Python step, or in the container's command",
    ),
    "secret-name-output": Support(
        "refused",
        "the stack grants the pipeline's identity exactly the secrets it names, so a name known only when the run reaches the step cannot be granted: name it with a literal or a pipeline parameter with a default",
    ),
    "schedule": Support(
        "lowered", "a Cloud Scheduler job in the generated stack creates the pipeline job"
    ),
    "image-parameter": Support(
        "lowered",
        "the step runs as a custom job: its worker pool's image_uri is a placeholder of an input"
        " bound to the parameter",
    ),
    "platform-option-parameter": Support(
        "mapped",
        "machine_type of a deployment or batch prediction job (a GCPC task input bound to the"
        " parameter) or of a custom job (a placeholder of that input in its worker pool spec)",
    ),
    "platform-options": Support(
        "mapped",
        "vertex: "
        + ", ".join(sorted(PLATFORM_OPTIONS))
        + "; other platforms' options are reported and ignored",
    ),
}

_BACKEND = "gcp-secret-manager"


class VertexPlatform:
    name = "vertex"
    support: Mapping[str, Support] = SUPPORT

    def check(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        from mlcompile.monitor.platforms import schedule_refusals

        problems = (
            refusals(self, pipeline)
            + schedule_refusals(self.name, pipeline)
            + graph_rules(self.name, pipeline)
            + import_rules(self.name, pipeline, ("gs",))
            + training_rules(self.name, pipeline)
        )
        for graph in graphs(pipeline):
            for scoped in scoped_tasks(graph):
                problems += self._task_rules(graph, scoped.task, profile)
        return problems

    def _task_rules(self, graph: ir.Pipeline, task: ir.Task, profile: Profile) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        options = task.options
        component = graph.components[task.component]
        op = component.builtin.op if component.builtin is not None else None
        backend = profile.effective_secrets_backend
        if options.secrets and component.kind != "container" and backend != _BACKEND:
            out.append(
                refusal(
                    self.name,
                    FeatureUse("secrets", task.name, task.location),
                    f"secrets_backend {backend} injects secrets into Kubernetes pods, which "
                    f"Vertex AI does not run: use secrets_backend: {_BACKEND} (the default "
                    "for vertex), the step then reads them from Secret Manager",
                )
            )
        try:
            if runs_as_custom_job(options) or op in ("deploy_model", "batch_predict"):
                machine_spec(task.name, options, profile, serving=op is not None)
            elif options.resources.gpu:
                accelerator(options.resources)
        except NoGpuType as exc:
            out.append(
                Diagnostic(
                    "MLC401",
                    f"step {task.name!r}: {exc}",
                    task.location.source(),
                    "ask for one of those GPU types (in any platform's spelling: A100, "
                    "nvidia-tesla-a100, NVIDIA_TESLA_A100)",
                    platform=self.name,
                    step=task.name,
                )
            )
        except NoMachine as exc:
            out.append(
                Diagnostic(
                    "MLC401",
                    f"step {task.name!r}: {exc}",
                    task.location.source(),
                    "ask for less, or name a machine in the profile's instance_types",
                    platform=self.name,
                    step=task.name,
                )
            )
        out += self._platform_options(graph, task, op)
        return out

    def _platform_options(
        self, graph: ir.Pipeline, task: ir.Task, op: str | None
    ) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        given = task.options.platform_options
        # A deployment's and a batch job's machine type are GCPC task inputs, a custom job's a
        # placeholder in its worker pool spec: both resolved when the run starts. A step that
        # runs as a plain container task has no machine type.
        takes = op in ("deploy_model", "batch_predict") or runs_as_custom_job(task.options)
        runtime = ("machine_type",) if takes else ()
        plain = (
            "this step runs as a plain pipeline task, which has no machine type (Vertex sizes "
            "it from its cpu and memory); a training step, or one with a timeout or a disk, "
            "runs as a custom job, whose machine a run can choose"
        )
        out += unknown_options(self.name, PLATFORM_OPTIONS, task, runtime, {"machine_type": plain})
        parameter = ir.option_parameter(given.get("vertex", {}).get("machine_type"))
        port = graph.parameter(parameter) if parameter is not None else None
        if runtime and parameter is not None and (port is None or port.type != "str"):
            out.append(
                Diagnostic(
                    "MLC208",
                    f"step {task.name!r}: platform_options['vertex']['machine_type'] is"
                    f" {'not a pipeline parameter' if port is None else f'a {port.type} parameter'};"
                    " Vertex AI takes a str parameter of the pipeline itself here",
                    task.location.source(),
                    "declare a str parameter on the pipeline and pass it",
                    platform=self.name,
                    step=task.name,
                )
            )
        for other in sorted(set(given) - {"vertex"}):
            out.append(
                Diagnostic(
                    "MLC401",
                    f"step {task.name!r}: platform_options[{other!r}] "
                    f"({', '.join(sorted(given[other]))}) apply only on {other}; "
                    "Vertex AI ignores them",
                    task.location.source(),
                    "give the Vertex equivalent under platform_options['vertex'] if one is "
                    "needed ("
                    + ", ".join(sorted(PLATFORM_OPTIONS))
                    + "), or use resources= and the profile's instance_types",
                    severity="warning",
                    platform=self.name,
                    step=task.name,
                )
            )
        return out

    def compile(self, pipeline: ir.Pipeline, profile: Profile) -> BuildOutput:
        problems = self.check(pipeline, profile)
        if any(d.severity == "error" for d in problems):
            raise ValidationError(problems)
        ir_hash = content_hash(pipeline)
        where = target(pipeline, profile, ir_hash)
        bundle = code_bundle(pipeline)
        code_uri = f"{where.pipeline_root}/{bundle.key}"
        lowered = lower(
            pipeline,
            VertexHooks(pipeline, profile, where, bundle.sha256),
            name=where.name,
            description=description(pipeline, ir_hash),
            pipeline_root=where.pipeline_root,
            schema_titles=VERTEX_SCHEMA_TITLES,
            code_uri=code_uri,
        )
        header = [
            "PIPELINE DEFINITION",
            f"Name: {where.name}",
            f"Compiled by mlcompile for profile {profile.name} ({SDK_VERSION} IR, "
            f"google-cloud-pipeline-components {GCPC_VERSION})",
            f"IR hash: {ir_hash}",
        ]
        spec = lowered.pipeline_spec
        files = {
            "pipeline.yaml": dump_yaml([spec], header),
            "pipeline_job.json": json_bytes(pipeline_job(pipeline, where, spec)),
        }
        extra: dict[str, object] = {
            "template": "pipeline.yaml",
            "sdk_versions": {"google-cloud-pipeline-components": GCPC_VERSION},
        }
        if uses_code_bundle(spec):
            files[bundle.key] = bundle.data
            extra["code_bundle"] = {"path": bundle.key, "uri": code_uri}
        return BuildOutput(spec="pipeline_job.json", files=files, manifest_extra=extra)


PLATFORM = VertexPlatform()
