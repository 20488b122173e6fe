"""The SageMaker adapter: ``python -m mlcompile.runtime sagemaker run|deploy ARGS``.

``run`` calls a step function inside a Processing or Training job. SageMaker has already
downloaded each input artifact into its folder (``/opt/ml/processing/input/<name>`` or a
training channel) and uploads each output folder after the job; the compiled command names
every path, so this module knows no SageMaker layout itself. Arguments, in any order:

  --code FILE --function NAME        the step function, FILE relative to the bundle root
  --param NAME VALUE / --null NAME   a parameter, as text (coerced by the function's annotation)
  --param-file NAME FILE             a parameter, as the text of FILE (a container step's output)
  --hyperparameters FILE             every entry of the JSON map FILE is a parameter, as text: a
                                     training job's HyperParameters, which SageMaker writes to
                                     /opt/ml/input/config/hyperparameters.json
  --list NAME TYPE                   NAME is a list (fan-in); TYPE is 'artifact' or a scalar type
  --item NAME VALUE                  one element of a scalar list
  --input NAME PATH                  an input artifact (repeated for an artifact list)
  --archive DIR                      unpack DIR/model.tar.gz (a training job's model) in place
  --imported NAME DIR URI            an imported artifact SageMaker downloaded from URI to DIR: the
                                     file or folder named after the URI's last '/', else DIR
  --archive DIR                      unpack DIR/model.tar.gz or DIR/output.tar.gz (what a training
                                     job wrote) in place
  --value NAME FILE KEY              parameter NAME (or one more element of list NAME) is entry KEY
                                     of the JSON file FILE (a training job's values or metrics)
  --output NAME PATH                 where the function writes an output artifact
  --values FILE                      JSON file for the function's scalar results (a property file)
  --json-values FILE                 the same results, each as its JSON text (json.dumps), for a
                                     container that reads them inside a list
  --metrics                          print each returned number and each entry of each Metrics
                                     output as "mlcompile-metric NAME=VALUE;" for the training
                                     job's MetricDefinitions (NAME is OUTPUT:KEY for an entry)
  --secret ENV NAME KEY --backend B  export a secret from its store into ENV before the call
  --retry COUNT BASE FACTOR CAP      call the function again after a failure, up to COUNT times,
                                     waiting as runtime.retry says ('' for an unset value)

``deploy`` creates or updates an endpoint serving a model package (the ``deploy_model`` step):

  --model-package ARN --endpoint NAME --instance-type TYPE --replicas MIN MAX --role ARN
  --capture S3URI KEY                capture requests and responses there, encrypted with KEY
  --volume-key KEY                   encrypt the instances' storage volume with KEY
  --output NAME PATH                 where to write the endpoint and model names
"""

from __future__ import annotations

import json
import numbers
import shutil
import sys
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from mlcompile.runtime.instance_storage import has_instance_storage

if TYPE_CHECKING:
    from mlcompile.runtime.invoke import ArtifactRef

T = TypeVar("T")

_ARITY = {
    "--code": 1,
    "--function": 1,
    "--param": 2,
    "--param-file": 2,
    "--hyperparameters": 1,
    "--null": 1,
    "--list": 2,
    "--item": 2,
    "--input": 2,
    "--archive": 1,
    "--imported": 3,
    "--value": 3,
    "--metrics": 0,
    "--output": 2,
    "--values": 1,
    "--json-values": 1,
    "--secret": 3,
    "--backend": 1,
    "--retry": 4,
    "--model-package": 1,
    "--endpoint": 1,
    "--instance-type": 1,
    "--replicas": 2,
    "--role": 1,
    "--capture": 2,
    "--volume-key": 1,
}
#: What each metric line starts with (the compiler's MetricDefinitions search for it).
METRIC_LINE = "mlcompile-metric"
#: The production variant every deployed endpoint config has; the stack's alarms watch it.
VARIANT = "main"
#: Requests a minute one serving instance takes before autoscaling adds another.
INVOCATIONS_PER_INSTANCE = 70.0


def parse(argv: list[str]) -> list[tuple[str, list[str]]]:
    """(option, values) pairs in order; raises ValueError on an unknown or short option."""
    out: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(argv):
        option = argv[i]
        if option not in _ARITY:
            raise ValueError(f"unknown option {option!r}")
        values = argv[i + 1 : i + 1 + _ARITY[option]]
        if len(values) != _ARITY[option]:
            raise ValueError(f"{option} needs {_ARITY[option]} values")
        out.append((option, values))
        i += 1 + _ARITY[option]
    return out


def _scalar(text: str, type_name: str) -> Any:
    if type_name == "int":
        return int(float(text))
    if type_name == "float":
        return float(text)
    if type_name == "bool":
        return text.strip().lower() in ("true", "1", "yes")
    if type_name in ("list", "dict"):
        return json.loads(text)
    return text


def safe_extract(tar: tarfile.TarFile, folder: str) -> None:
    """Extract refusing links and paths outside ``folder``: the "data" filter where this Python
    has it (3.12, and security releases of 3.8-3.11), the same checks by hand where not."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(folder, filter="data")
        return
    root = Path(folder).resolve()
    for member in tar.getmembers():
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or (
            target != root and root not in target.parents
        ):
            raise ValueError(f"refusing to extract {member.name!r} from {tar.name!r}")
    tar.extractall(folder)


def imported_path(folder: str, uri: str) -> str:
    """Where an input from ``uri`` is: SageMaker keeps each key's name after the URI's last '/',
    so a key is the file of that name and a prefix ending in a name the folder of it."""
    name = uri.rsplit("/", 1)[-1] if not uri.endswith("/") else ""
    candidate = Path(folder) / name
    return str(candidate) if name and candidate.exists() else folder


#: What SageMaker packs a training job's /opt/ml/model and /opt/ml/output/data into
#: (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html).
ARCHIVES = ("model.tar.gz", "output.tar.gz")


def _unpack(folder: str) -> None:
    for name in ARCHIVES:
        archive = Path(folder) / name
        if archive.is_file():
            with tarfile.open(archive) as tar:
                safe_extract(tar, folder)


def _hyperparameters(file: str) -> dict[str, str]:
    """The job's HyperParameters: SageMaker gives each value as a string (the text an argument
    would have), which the function's annotation coerces as it does an argument's."""
    with open(file, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{file} is not a JSON object of hyperparameters")
    return {str(k): str(v) for k, v in data.items()}


def _entry(file: str, key: str) -> Any:
    with open(file, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"{file} has no entry {key!r}")
    return data[key]


def print_metrics(results: dict[str, Any], produced: dict[str, Any]) -> None:
    """One line per number the step returned and per entry of its Metrics outputs, for the
    regular expressions of the training job's MetricDefinitions to find in its log."""
    from mlcompile.dsl.artifacts import Metrics

    lines = [
        (name, float(value))
        for name, value in sorted(results.items())
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    ]
    for name, artifact in sorted(produced.items()):
        if isinstance(artifact, Metrics):
            lines += [(f"{name}:{key}", value) for key, value in sorted(artifact.read().items())]
    for name, value in lines:
        print(f"{METRIC_LINE} {name}={value!r};", flush=True)


def run(argv: list[str]) -> int:
    from mlcompile.runtime import secrets
    from mlcompile.runtime.invoke import ArtifactRef, invoke, load_function

    code = function = values_file = backend = ""
    retry = ["0", "", "", ""]
    code = function = values_file = json_file = backend = ""
    report_metrics = False
    params: dict[str, Any] = {}
    lists: dict[str, str] = {}
    inputs: dict[str, ArtifactRef | list[ArtifactRef]] = {}
    outputs: dict[str, ArtifactRef] = {}
    refs: list[dict[str, str | None]] = []
    for option, values in parse(argv):
        if option == "--code":
            code = values[0]
        elif option == "--function":
            function = values[0]
        elif option == "--param":
            params[values[0]] = values[1]
        elif option == "--param-file":
            params[values[0]] = Path(values[1]).read_text(encoding="utf-8")
        elif option == "--hyperparameters":
            params.update(_hyperparameters(values[0]))
        elif option == "--null":
            params[values[0]] = None
        elif option == "--list":
            lists[values[0]] = values[1]
            if values[1] == "artifact":
                inputs[values[0]] = []
            else:
                params[values[0]] = []
        elif option == "--item":
            params[values[0]].append(_scalar(values[1], lists[values[0]]))
        elif option == "--archive":
            _unpack(values[0])
        elif option == "--value":
            value = _entry(values[1], values[2])
            if values[0] in lists:
                params[values[0]].append(value)
            else:
                params[values[0]] = value
        elif option == "--metrics":
            report_metrics = True
        elif option == "--input":
            ref = ArtifactRef(values[1], values[1])
            target = inputs.get(values[0])
            if isinstance(target, list):
                target.append(ref)
            else:
                inputs[values[0]] = ref
        elif option == "--imported":
            found = imported_path(values[1], values[2])
            inputs[values[0]] = ArtifactRef(found, values[2])
        elif option == "--output":
            outputs[values[0]] = ArtifactRef(values[1], values[1])
        elif option == "--values":
            values_file = values[0]
        elif option == "--json-values":
            json_file = values[0]
        elif option == "--secret":
            refs.append({"env": values[0], "name": values[1], "key": values[2] or None})
        elif option == "--backend":
            backend = values[0]
        elif option == "--retry":
            retry = values
    if refs:
        secrets.export(refs, backend)
    func = load_function(code, function, Path.cwd())
    results, produced = _with_retries(lambda: invoke(func, params, inputs, outputs), retry, outputs)
    if report_metrics:
        print_metrics(results, produced)
    if values_file:
        Path(values_file).parent.mkdir(parents=True, exist_ok=True)
        Path(values_file).write_text(json.dumps(results, sort_keys=True, default=str))
    if json_file:
        texts = {k: json.dumps(v, sort_keys=True, default=str) for k, v in results.items()}
        Path(json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(json_file).write_text(json.dumps(texts, sort_keys=True))
    return 0


def _with_retries(call: Callable[[], T], retry: list[str], outputs: dict[str, ArtifactRef]) -> T:
    """``call()``, again after each failure while retries are left; what a failed attempt wrote
    is removed first, so an attempt never sees the last one's partial outputs."""
    from mlcompile.runtime.retry import delay

    count = int(retry[0])
    base, factor, cap = (float(v) if v else None for v in retry[1:])
    attempt = 1
    while True:
        try:
            return call()
        except Exception as exc:
            if attempt > count:
                raise
            attempt += 1
            wait = delay(attempt, base, factor, cap)
            print(
                f"mlcompile: attempt {attempt - 1} failed ({type(exc).__name__}: {exc});"
                f" attempt {attempt} of {count + 1} in {wait:g}s",
                file=sys.stderr,
            )
            for ref in outputs.values():
                _remove(Path(ref.path))
            time.sleep(wait)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def deploy(argv: list[str]) -> int:
    """Serve the model package at the endpoint: a new model and endpoint config each time,
    then create the endpoint or update it in place, and wait until it is in service."""
    import boto3

    opts = {option: values for option, values in parse(argv)}
    package = opts["--model-package"][0]
    endpoint = opts["--endpoint"][0]
    low, high = (int(v) for v in opts["--replicas"])
    version = package.rstrip("/").rsplit("/", 1)[-1]
    name = f"{endpoint}-v{version}"[:63]
    sm = boto3.client("sagemaker")
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=opts["--role"][0],
        PrimaryContainer={"ModelPackageName": package},
    )
    config: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "InitialInstanceCount": low,
                "InstanceType": opts["--instance-type"][0],
            }
        ],
    }
    if "--capture" in opts:
        destination, key = opts["--capture"]
        config["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": destination,
            "KmsKeyId": key,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    # An instance type given by a pipeline parameter is known only now: local NVMe storage is
    # encrypted by the hardware, and SageMaker rejects a volume key for it.
    if "--volume-key" in opts and not has_instance_storage(opts["--instance-type"][0]):
        config["KmsKeyId"] = opts["--volume-key"][0]
    sm.create_endpoint_config(**config)
    existing = sm.list_endpoints(NameContains=endpoint)["Endpoints"]
    if any(e["EndpointName"] == endpoint for e in existing):
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=name)
    else:
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint)
    if high > low:
        # Between the replica bounds, track invocations per instance: without a policy the
        # scalable target would hold at its minimum and max_replicas would mean nothing.
        scaling = boto3.client("application-autoscaling")
        target = {
            "ServiceNamespace": "sagemaker",
            "ResourceId": f"endpoint/{endpoint}/variant/{VARIANT}",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        }
        scaling.register_scalable_target(**target, MinCapacity=low, MaxCapacity=high)
        scaling.put_scaling_policy(
            **target,
            PolicyName=f"{endpoint}-invocations",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": INVOCATIONS_PER_INSTANCE,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )
    if "--output" in opts:
        out = Path(opts["--output"][1])
        out.parent.mkdir(parents=True, exist_ok=True)
        # What serves the model, for lineage: the instance type a run may have chosen.
        served = {
            "endpoint": endpoint,
            "model": name,
            "instance_type": opts["--instance-type"][0],
            "volume_key": config.get("KmsKeyId"),
        }
        out.write_text(json.dumps(served, sort_keys=True))
    return 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("run", "deploy"):
        print("usage: python -m mlcompile.runtime sagemaker run|deploy ARGS", file=sys.stderr)
        return 2
    try:
        return run(rest) if command == "run" else deploy(rest)
    except Exception as exc:
        print(f"mlcompile sagemaker step failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
