"""Step options as the user writes them, and their normalisation into IR with diagnostics.

Quantities ("500m", "4Gi") and durations ("90s", "1h30m") are parsed here once, so every
platform reads numbers (cores, bytes, seconds) and no emitter parses user strings again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlcompile.dsl._ir import ir
from mlcompile.errors import DiagnosticSink, SourceLocation, did_you_mean

if TYPE_CHECKING:
    from mlcompile.dsl.values import OutputHandle, ParamHandle


_SECRET_LIKE = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATE_TOKEN = re.compile(r"\{\{mlc:\d+\}\}")
#: Credentials recognised by their shape, whatever the variable is called: the documented
#: prefixes of common providers' keys and tokens.
_KEY_SHAPES = (
    ("an OpenAI API key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}")),
    ("an Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}")),
    (
        "a GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    ),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[A-Za-z0-9_\-]{30,}")),
    ("a Stripe key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.")),
    ("a password in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]{3,}@")),
)
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-]{32,}$")


def credential_shape(value: str) -> str | None:
    """What kind of credential ``value`` looks like by its shape, or None.

    Known key prefixes first; then a long random-looking token (mixed case and digits, high
    entropy), which a hash, a path, a UUID or a version string is not."""
    for kind, pattern in _KEY_SHAPES:
        if pattern.search(value):
            return kind
    if _TOKEN_CHARS.match(value) and _is_random(value):
        return "a random access token"
    return None


def _is_random(text: str) -> bool:
    import math

    if not (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() for c in text)
    ):
        return False  # hex digests and most identifiers are single-case
    counts: dict[str, int] = {}
    for c in text:
        counts[c] = counts.get(c, 0) + 1
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return entropy >= 4.3


def runtime_value_in(value: object) -> str | None:
    """A description of the run-time value (parameter, step output, f-string of them) held
    anywhere in ``value``, or None when it is all known at compile time."""
    from mlcompile.dsl.values import ConditionHandle, TaskHandle, ValueHandle

    if isinstance(value, ValueHandle):
        return value.describe()
    if isinstance(value, TaskHandle):
        return f"the output of step {value.name!r}"
    if isinstance(value, ConditionHandle):
        return "a run-time condition"
    if isinstance(value, str) and _TEMPLATE_TOKEN.search(value):
        return "an f-string of run-time values"
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
        return next((d for d in map(runtime_value_in, items) if d), None)
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((d for d in map(runtime_value_in, value) if d), None)
    return None


def shown_type(value: object) -> str:
    """A value's type as a user knows it: no module paths, no object addresses."""
    from mlcompile.dsl.values import ConditionHandle, TaskHandle, ValueHandle

    if isinstance(value, (ValueHandle, TaskHandle, ConditionHandle)):
        return "run-time value"
    return type(value).__name__


@dataclass(frozen=True)
class Resources:
    """What a step needs: ``cpu`` in cores (2, 0.5 or "500m"), ``memory`` and ``disk`` as
    Kubernetes quantities ("4Gi", "512Mi", "8G") or bytes, and a GPU count and type (in any
    platform's spelling: "A100", "nvidia-tesla-a100", "NVIDIA_TESLA_A100").

    ``cpu`` and ``memory`` are what the step is given; on Kubernetes they are both its request
    and its limit. ``cpu_limit`` and ``memory_limit`` let it use more than it reserves: the
    request stays ``cpu``/``memory`` and the limit is raised (at least the request; alone, a
    limit is also the request, as in Kubernetes). Platforms that give each step its own machine
    size it by the request."""

    cpu: float | int | str | None = None
    memory: str | int | None = None
    gpu: int = 0
    gpu_type: str | None = None
    disk: str | int | None = None
    cpu_limit: float | int | str | None = None
    memory_limit: str | int | None = None


@dataclass(frozen=True)
class Retry:
    """Retry a failed step ``count`` times, waiting ``backoff`` and growing it by ``factor``."""

    count: int
    backoff: str | int | None = None
    factor: float | None = None
    max_backoff: str | int | None = None


@dataclass(frozen=True)
class Secret:
    """A secret by reference. ``name`` is its name in the platform's secret store: a literal, a
    pipeline parameter, or (where the platform resolves it at run time: Kubeflow's Kubernetes
    secrets) a str output of an earlier step; ``key`` picks one key of a secret holding several.
    The step sees the value in the environment variable ``env``."""

    name: str | ParamHandle | OutputHandle
    env: str | None = None
    key: str | None = None


_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_cpu(value: float | int | str) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    text = value.strip()
    if text.endswith("m") and text[:-1].isdigit():
        cores = int(text[:-1]) / 1000
        return cores if cores > 0 else None
    try:
        cores = float(text)
    except ValueError:
        return None
    return cores if cores > 0 else None


def parse_bytes(value: str | int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    match = _QUANTITY.match(value.strip())
    if not match:
        return None
    number = float(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""]
    return int(number) if number >= 1 else None


def parse_duration(value: str | int) -> int | None:
    """Seconds from 90, "90s", "5m", "1h30m"; None when it is not a positive duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total if total > 0 else None


def normalize_resources(
    res: Resources | None,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
    field_loc: Callable[[str], SourceLocation] | None = None,
) -> ir.Resources:
    """``field_loc`` gives the line of one field (``cpu=``) when it is on its own line."""
    at = field_loc or (lambda _field: loc)
    if res is None:
        return ir.Resources()
    if not isinstance(res, Resources):
        sink.error(
            "MLC201",
            f"step {step!r}: resources must be a Resources(...), not a {shown_type(res)}",
            loc,
            'write resources=Resources(cpu=2, memory="4Gi")',
            step=step,
        )
        return ir.Resources()
    cpu = _cpu_field(res.cpu, "cpu", sink, at("cpu"), step, '(2, 0.5) or millicores ("500m")')
    memory = _bytes_field(res.memory, "memory", sink, at("memory"), step)
    disk = _bytes_field(res.disk, "disk", sink, at("disk"), step)
    cpu_limit = _cpu_field(
        res.cpu_limit, "cpu_limit", sink, at("cpu_limit"), step, '(4, 1.5) or millicores ("1500m")'
    )
    memory_limit = _bytes_field(res.memory_limit, "memory_limit", sink, at("memory_limit"), step)
    cpu, cpu_limit = _request_and_limit(
        "cpu", cpu, cpu_limit, res.cpu, res.cpu_limit, sink, at("cpu_limit"), step
    )
    memory, memory_limit = _request_and_limit(
        "memory", memory, memory_limit, res.memory, res.memory_limit, sink, at("memory_limit"), step
    )
    if not isinstance(res.gpu, int) or isinstance(res.gpu, bool) or res.gpu < 0:
        sink.error(
            "MLC201",
            f"step {step!r}: gpu={res.gpu!r} is not a GPU count",
            at("gpu"),
            "give a whole number of GPUs (0, 1, 4) and the model in gpu_type",
            step=step,
        )
        gpu = 0
    else:
        gpu = res.gpu
    if res.gpu_type is not None and gpu == 0:
        sink.error(
            "MLC201",
            f"step {step!r}: gpu_type={res.gpu_type!r} is set but gpu is 0",
            at("gpu_type"),
            "set gpu=1 (or more) with gpu_type, or drop gpu_type",
            step=step,
        )
    return ir.Resources(
        cpu=cpu,
        memory_bytes=memory,
        gpu=gpu,
        gpu_type=res.gpu_type,
        disk_bytes=disk,
        cpu_limit=cpu_limit,
        memory_limit_bytes=memory_limit,
    )


def _request_and_limit(
    field: str,
    request: Any,
    limit: Any,
    given_request: object,
    given_limit: object,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
) -> tuple[Any, Any]:
    """(request, limit above it or None): a limit alone is also the request (as Kubernetes
    defaults it), one equal to the request is no separate limit, and one below it is refused."""
    if limit is None:
        return request, None
    if request is None:
        return limit, None
    if limit < request:
        sink.error(
            "MLC201",
            f"step {step!r}: {field}_limit={given_limit!r} is below {field}={given_request!r}",
            loc,
            f"a limit is the most the step may use: give {field}_limit at least {field}, or "
            f"drop it to have the limit equal {field}",
            step=step,
        )
        return request, None
    return request, (None if limit == request else limit)


def _cpu_field(
    value: float | int | str | None,
    field: str,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
    examples: str,
) -> float | None:
    if value is None:
        return None
    parsed = parse_cpu(value)
    if parsed is None:
        sink.error(
            "MLC201",
            f"step {step!r}: {field}={value!r} is not a CPU quantity",
            loc,
            f"give cores as a positive number {examples}",
            step=step,
        )
    return parsed


def _bytes_field(
    value: str | int | None, field: str, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> int | None:
    if value is None:
        return None
    parsed = parse_bytes(value)
    if parsed is None:
        sink.error(
            "MLC201",
            f"step {step!r}: {field}={value!r} is not a quantity of bytes",
            loc,
            'use a Kubernetes quantity such as "512Mi", "4Gi" or "8G"',
            step=step,
        )
    return parsed


def normalize_retry(
    retries: int | Retry | None,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
    field_loc: Callable[[str], SourceLocation] | None = None,
) -> ir.Retry:
    at = field_loc or (lambda _field: loc)
    if retries is None:
        return ir.Retry()
    if isinstance(retries, int) and not isinstance(retries, bool):
        retries = Retry(count=retries)
    if not isinstance(retries, Retry) or not isinstance(retries.count, int) or retries.count < 0:
        sink.error(
            "MLC203",
            f"step {step!r}: retries={retries!r} is not a retry policy",
            loc,
            'write retries=2 or retries=Retry(count=3, backoff="30s", factor=2)',
            step=step,
        )
        return ir.Retry()
    backoff = _duration_field(retries.backoff, "backoff", sink, at("backoff"), step)
    max_backoff = _duration_field(retries.max_backoff, "max_backoff", sink, at("max_backoff"), step)
    if retries.factor is not None and not (
        isinstance(retries.factor, (int, float)) and retries.factor >= 1
    ):
        sink.error(
            "MLC203",
            f"step {step!r}: backoff factor {retries.factor!r} must be a number >= 1",
            at("factor"),
            "use factor=2 to double the wait after each failure",
            step=step,
        )
    return ir.Retry(
        count=retries.count,
        backoff_seconds=backoff,
        backoff_factor=float(retries.factor) if retries.factor is not None else None,
        max_backoff_seconds=max_backoff,
    )


def _duration_field(
    value: str | int | None, field: str, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> int | None:
    if value is None:
        return None
    seconds = parse_duration(value)
    if seconds is None:
        sink.error(
            "MLC204",
            f"step {step!r}: {field}={value!r} is not a duration",
            loc,
            'give seconds (90) or a duration such as "90s", "5m" or "1h30m"',
            step=step,
        )
    return seconds


def normalize_timeout(
    value: str | int | None, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> int | None:
    return _duration_field(value, "timeout", sink, loc, step)


def normalize_env(
    env: dict[str, Any] | None,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
    field_loc: Callable[[str], SourceLocation] | None = None,
) -> dict[str, str | ir.ParamRef]:
    """``field_loc`` gives the line of one key, so each variable's mistake is shown there.

    A value may be a pipeline parameter as a whole (a str, int, float or bool one): the step
    sees its value, as text, when the run reaches it."""
    from mlcompile.dsl.values import ParamHandle

    at = field_loc or (lambda _key: loc)
    out: dict[str, str | ir.ParamRef] = {}
    if env is not None and not isinstance(env, dict):
        sink.error(
            "MLC207",
            f"step {step!r}: env must be a dict of names to values, not a {shown_type(env)}",
            loc,
            'write env={"LOG_LEVEL": "info"}',
            step=step,
        )
        return out
    for key, value in (env or {}).items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            sink.error(
                "MLC207",
                f"step {step!r}: {key!r} is not an environment variable name",
                at(str(key)),
                "use letters, digits and underscores, not starting with a digit",
                step=step,
            )
            continue
        if isinstance(value, Secret):
            sink.error(
                "MLC207",
                f"step {step!r}: env[{key!r}] holds a Secret",
                at(str(key)),
                f'declare it in secrets=[Secret({value.name!r}, env="{key}")] instead',
                step=step,
            )
            continue
        if isinstance(value, ParamHandle):
            if _SECRET_LIKE.search(key):
                sink.error(
                    "MLC202",
                    f"step {step!r}: env[{key!r}] looks like a credential but comes from"
                    f" parameter {value.name!r}, whose value every run record shows",
                    at(str(key)),
                    f'store it in the secret store and write secrets=[Secret("<name>", env="{key}")]',
                    step=step,
                )
                continue
            if value.type in ("list", "dict"):
                sink.error(
                    "MLC207",
                    f"step {step!r}: env[{key!r}] is {value.type} parameter {value.name!r}; an"
                    " environment variable holds one text value",
                    at(str(key)),
                    "give a str, int, float or bool parameter",
                    step=step,
                )
                continue
            out[key] = ir.ParamRef(name=value.name)
            continue
        runtime = runtime_value_in(value)
        if runtime is not None:
            sink.error(
                "MLC208",
                f"step {step!r}: env[{key!r}] is {runtime}; environment variables take literals"
                " or a pipeline parameter as a whole value",
                at(str(key)),
                "pass the value as a step input (a function parameter) instead, and set the "
                "variable from it inside the step",
                step=step,
            )
            continue
        if not isinstance(value, (str, int, float, bool)):
            sink.error(
                "MLC207",
                f"step {step!r}: env[{key!r}] is a {shown_type(value)}, not a string",
                at(str(key)),
                f'give env={{"{key}": "value"}} with a str, int, float or bool value',
                step=step,
            )
            continue
        shape = credential_shape(str(value)) if isinstance(value, str) else None
        if shape is not None:
            sink.error(
                "MLC202",
                f"step {step!r}: env[{key!r}] holds what looks like {shape}, as a literal value",
                at(str(key)),
                f'rotate it, store it in the secret store and write secrets=[Secret("<name>", '
                f'env="{key}")]; literal values end up in specs and logs',
                step=step,
            )
            continue
        if _SECRET_LIKE.search(key):
            sink.error(
                "MLC202",
                f"step {step!r}: env[{key!r}] looks like a credential but is a literal value",
                at(str(key)),
                f'store it in the secret store and write secrets=[Secret("<name>", env="{key}")];'
                " literal values end up in specs and logs",
                step=step,
            )
            continue
        out[key] = str(value)
    return out


def normalize_secrets(
    secrets: Any, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> tuple[ir.SecretRef, ...]:
    from mlcompile.dsl.values import OutputHandle, ParamHandle

    refs: list[ir.SecretRef] = []
    for secret in secrets or ():
        if not isinstance(secret, Secret):
            shown = "a literal value" if isinstance(secret, str) else shown_type(secret)
            sink.error(
                "MLC202",
                f"step {step!r}: secrets holds {shown} where a Secret reference belongs",
                loc,
                'write Secret("name-in-the-secret-store"); never put a secret value in code',
                step=step,
            )
            continue
        name: ir.Literal | ir.ParamRef | ir.OutputRef
        if isinstance(secret.name, OutputHandle) and secret.name.type in ("str", "any"):
            name = ir.OutputRef(task=secret.name.task.name, output=secret.name.output)
            default_env = None
        elif isinstance(secret.name, ParamHandle):
            if secret.name.type != "str":
                sink.error(
                    "MLC207",
                    f"step {step!r}: secret name parameter {secret.name.name!r} is "
                    f"{secret.name.type}, not str",
                    loc,
                    "declare the pipeline parameter that names the secret as str",
                    step=step,
                )
            name = ir.ParamRef(name=secret.name.name)
            default_env = None
        elif isinstance(secret.name, str) and secret.name:
            name = ir.Literal(value=secret.name)
            default_env = re.sub(r"[^A-Za-z0-9]", "_", secret.name).upper()
        else:
            sink.error(
                "MLC207",
                f"step {step!r}: Secret name {secret.name!r} is not a string, a str parameter"
                " or a str step output",
                loc,
                'write Secret("warehouse-token") or Secret(name=<str pipeline parameter>, env="X")',
                step=step,
            )
            continue
        env = secret.env or default_env
        if env is None or not _ENV_NAME.match(env):
            sink.error(
                "MLC207",
                f"step {step!r}: secret needs an environment variable name, got {env!r}",
                loc,
                'give env="WAREHOUSE_TOKEN" (required when the name is a pipeline parameter)',
                step=step,
            )
            continue
        refs.append(ir.SecretRef(name=name, env=env, key=secret.key))
    return tuple(refs)


def normalize_platform_options(
    options: dict[str, Any] | None, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> dict[str, dict[str, Any]]:
    from mlcompile.platforms import names  # the registry, third-party platforms included

    known = names()
    out: dict[str, dict[str, Any]] = {}
    for platform, value in (options or {}).items():
        if platform not in known:
            sink.error(
                "MLC205",
                f"step {step!r}: platform_options names unknown platform {platform!r}."
                + did_you_mean(platform, known),
                loc,
                f"known platforms: {', '.join(known)}",
                step=step,
            )
            continue
        if not isinstance(value, dict):
            sink.error(
                "MLC205",
                f"step {step!r}: platform_options[{platform!r}] must be a dict, "
                f"not a {shown_type(value)}",
                loc,
                'write platform_options={"sagemaker": {"instance_type": "ml.m5.xlarge"}}',
                step=step,
            )
            continue
        value = {k: _parameter_marker(v) for k, v in value.items()}
        runtime = runtime_value_in(value)
        if runtime is not None:
            sink.error(
                "MLC208",
                f"step {step!r}: platform_options[{platform!r}] holds {runtime}; platform "
                "options take literals or a pipeline parameter as a whole value",
                loc,
                "give a literal value (per environment, through the profile's instance_types), "
                "or pass the run-time value to the step as an input",
                step=step,
            )
            continue
        odd = _non_json(value)
        if odd is not None:
            sink.error(
                "MLC205",
                f"step {step!r}: platform_options[{platform!r}] holds a {odd}, which no "
                "platform spec can hold",
                loc,
                "use strings, numbers, booleans, and lists and dicts of them",
                step=step,
            )
            continue
        out[platform] = value
    return out


def _parameter_marker(value: object) -> object:
    from mlcompile.dsl.values import ParamHandle

    if isinstance(value, ParamHandle):
        return {ir.PARAMETER_MARKER: value.name, "type": value.type}
    return value


def _non_json(value: object) -> str | None:
    """The type name of the first value that is not JSON data, or None."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{shown_type(key)} key"
            found = _non_json(item)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        return next((f for f in map(_non_json, value) if f), None)
    return shown_type(value)


def check_string_list(
    value: object, option: str, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> tuple[str, ...]:
    """A list of strings; a lone string (which Python would split into characters) is refused."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        shown = repr(value) if isinstance(value, str) else f"a {shown_type(value)}"
        example = f"[{value!r}]" if isinstance(value, str) else '["scikit-learn>=1.4"]'
        sink.error(
            "MLC207",
            f"step {step!r}: {option}={shown} is not a list of strings",
            loc,
            f"write {option}={example}",
            step=step,
        )
        return ()
    bad = [item for item in value if not isinstance(item, str) or not item.strip()]
    runtime = runtime_value_in(list(value))
    if runtime is not None:
        sink.error(
            "MLC208",
            f"step {step!r}: {option} holds {runtime}; it is fixed when the pipeline is compiled",
            loc,
            f"list literal strings in {option}",
            step=step,
        )
        return ()
    if bad:
        sink.error(
            "MLC207",
            f"step {step!r}: {option} holds {bad[0]!r}, which is not a non-empty string",
            loc,
            f'list strings only, e.g. {option}=["scikit-learn>=1.4"]',
            step=step,
        )
        return ()
    return tuple(value)


def check_bool(
    value: object, option: str, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> bool | None:
    """A real bool; "false" (a true value in Python) and 0/1 are refused, not guessed."""
    if isinstance(value, bool):
        return value
    runtime = runtime_value_in(value)
    if runtime is not None:
        sink.error(
            "MLC208",
            f"step {step!r}: {option} is {runtime}; it is fixed when the pipeline is compiled",
            loc,
            f"write {option}=True or {option}=False",
            step=step,
        )
        return None
    shown = repr(value) if isinstance(value, (str, int, float)) else f"a {shown_type(value)}"
    sink.error(
        "MLC207",
        f"step {step!r}: {option}={shown} is not True or False",
        loc,
        f"write {option}=True or {option}=False (a string such as 'false' would mean True)",
        step=step,
    )
    return None


def check_text(
    value: object, option: str, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> str | None:
    """A literal string option (image, display name): known when the pipeline is compiled."""
    if value is None:
        return None
    runtime = runtime_value_in(value)
    if runtime is not None:
        sink.error(
            "MLC208",
            f"step {step!r}: {option} is {runtime}; it is fixed when the pipeline is compiled",
            loc,
            f"give {option} as a literal string",
            step=step,
        )
        return None
    if not isinstance(value, str) or not value.strip():
        shown = repr(value) if isinstance(value, str) else f"a {shown_type(value)}"
        sink.error(
            "MLC207",
            f"step {step!r}: {option}={shown} is not a non-empty string",
            loc,
            f"give {option} as a string",
            step=step,
        )
        return None
    return value
