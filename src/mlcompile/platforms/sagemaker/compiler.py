"""One SageMaker compile: lower, bundle, emit, validate, and the files and manifest it writes."""

from __future__ import annotations

from mlcompile.build import json_bytes, package_version
from mlcompile.bundle import code_bundle
from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.platforms import BuildOutput
from mlcompile.platforms.sagemaker.emit import Emitter
from mlcompile.platforms.sagemaker.lowering import lower
from mlcompile.platforms.sagemaker.validate import validate
from mlcompile.profiles import Profile

SPEC = "pipeline.json"


def pipeline_tags(pipeline: ir.Pipeline, profile: Profile) -> dict[str, str]:
    """Tags the pipeline is created with: the profile's, plus the IR it was built from."""
    return {
        **profile.all_tags,
        "mlcompile:pipeline": pipeline.name,
        "mlcompile:ir-hash": content_hash(pipeline),
    }


def build(pipeline: ir.Pipeline, profile: Profile, sink: DiagnosticSink) -> BuildOutput:
    """The build's files; problems go to ``sink`` (the output is unusable if any is an error)."""
    plan = lower(pipeline, sink)
    bundle = code_bundle(pipeline)
    emitter = Emitter(pipeline, plan, profile, bundle, sink)
    definition = emitter.definition()
    validate(definition, sink)
    files = {SPEC: json_bytes(definition.to_json()), f"code/{bundle.file_name}": bundle.data}
    extra: dict[str, object] = {
        "sagemaker": {
            "pipeline_name": emitter.name,
            "role_arn": emitter.role,
            "artifact_bucket": emitter.bucket,
            "code_prefix": f"{emitter.name}/code",
            "bundles": [f"code/{bundle.file_name}"],
            "max_parallel_steps": plan.parallelism,
            # Each IR step, as runs show it (outer/inner, step[2]), with the SageMaker steps it
            # became; a name past SageMaker's 64 characters is shortened with a hash.
            "step_names": emitter.step_names,
            "tags": pipeline_tags(pipeline, profile),
        },
        "sdk_versions": {"botocore": package_version("botocore")},
    }
    return BuildOutput(spec=SPEC, files=files, manifest_extra=extra)
