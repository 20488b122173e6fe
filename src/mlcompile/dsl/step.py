"""``@step`` and ``@container_step``: a Python function or a container command as a pipeline step.

Decorating records the function and its options; nothing is validated or compiled until a
pipeline that calls the step is built, so every problem is reported together, at the line
that caused it.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, overload

from mlcompile.dsl import signature
from mlcompile.dsl._ir import ir
from mlcompile.dsl.location import RawLocation, caller_location
from mlcompile.dsl.options import (
    Resources,
    Retry,
    check_bool,
    check_string_list,
    check_text,
    normalize_env,
    normalize_platform_options,
    normalize_resources,
    normalize_retry,
    normalize_secrets,
    normalize_timeout,
)
from mlcompile.dsl.sources import add_source, closure_hash
from mlcompile.dsl.trace import TaskBuilder, Trace, active_trace, current_trace, to_value
from mlcompile.dsl.values import DslUsageError, ParamHandle, TaskHandle, UnknownHandle
from mlcompile.errors import SourceLocation, did_you_mean

if TYPE_CHECKING or sys.version_info >= (3, 10):
    from typing import ParamSpec  # novermin: imported only where it exists

    P = ParamSpec("P")
else:  # the step side runs on 3.8: only type checkers need the parameters' types
    P = TypeVar("P")
R = TypeVar("R")

_SCALARS: dict[Any, str] = {
    int: "int",
    float: "float",
    str: "str",
    bool: "bool",
    list: "list",
    dict: "dict",
}
#: Attributes of a step call's handle, which an output of that name would be hidden behind.
_RESERVED_OUTPUTS = ("after", "outputs", "with_options", "name")
_OPTION_NAMES = (
    "image",
    "packages",
    "resources",
    "retries",
    "cache",
    "timeout",
    "env",
    "secrets",
    "display_name",
    "kind",
    "platform_options",
    "content_types",
)


@dataclass(frozen=True)
class Command:
    """What a container step runs: ``command`` and ``args`` may hold its inputs and outputs
    (``data.path``, ``model.path``, a parameter, or f-strings of them). A training step
    (``kind="training"``) may give only ``args``: its image's own entrypoint runs."""

    command: list[Any] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)


def annotation_type(annotation: signature.Annotation | None) -> tuple[str, str | None] | None:
    """(IR type, direction) for a parameter annotation; direction is 'in'/'out' for artifacts."""
    if annotation is None or annotation.optional:
        return None
    if annotation.kind in ("scalar", "container"):
        return _SCALARS[annotation.type], "out" if annotation.direction == "out" else None
    if annotation.kind == "run-status":
        return ir.RUN_STATUS, None
    if annotation.kind == "artifact":
        name = annotation.type.type_name
        return (f"list[{name}]" if annotation.is_list else name), annotation.direction
    return None


def _options_from_kwargs(
    kwargs: dict[str, Any], trace: Trace, loc: RawLocation, step: str, base: ir.StepOptions
) -> ir.StepOptions:
    """Normalise decorator or per-call options onto ``base``; unknown names are diagnosed."""
    from mlcompile.dsl.location import option_location

    sink = trace.sink
    update: dict[str, Any] = {}
    for key, value in kwargs.items():
        where = trace.location(option_location(loc, key))
        if key == "image" and isinstance(value, ParamHandle):
            # A container step's image chosen when the run starts (checked against the
            # step's kind and the parameter's type once the pipeline is whole).
            update["image"] = ir.ParamRef(name=value.name)
        elif key == "image":
            image = check_text(value, "image", sink, where, step)
            if image is not None:
                update["image"] = image
        elif key == "packages":
            update["packages"] = check_string_list(value, "packages", sink, where, step)
        elif key == "resources":
            update["resources"] = normalize_resources(
                value, sink, where, step, _field_locator(trace, loc, key)
            )
        elif key == "retries":
            update["retry"] = normalize_retry(
                value, sink, where, step, _field_locator(trace, loc, key)
            )
        elif key == "cache":
            cache = check_bool(value, "cache", sink, where, step)
            if cache is not None:
                update["cache"] = cache
        elif key == "timeout":
            update["timeout_seconds"] = normalize_timeout(value, sink, where, step)
        elif key == "env":
            update["env"] = normalize_env(value, sink, where, step, _field_locator(trace, loc, key))
        elif key == "secrets":
            update["secrets"] = normalize_secrets(value, sink, where, step)
        elif key == "display_name":
            display_name = check_text(value, "display_name", sink, where, step)
            if display_name is not None:
                update["display_name"] = display_name
        elif key == "kind":
            if not isinstance(value, str) or value not in ("processing", "training"):
                sink.error(
                    "MLC207",
                    f"step {step!r}: kind={value!r} is not a step kind",
                    where,
                    'use kind="processing" (the default) or kind="training"',
                    step=step,
                )
            else:
                update["role"] = value
        elif key == "platform_options":
            update["platform_options"] = normalize_platform_options(value, sink, where, step)
        elif key == "content_types":
            from mlcompile.dsl.training import normalize_content_types

            update["content_types"] = normalize_content_types(value, sink, where, step)
        else:
            sink.error(
                "MLC207",
                f"step {step!r}: unknown option {key!r}." + did_you_mean(key, _OPTION_NAMES),
                where,
                f"step options are: {', '.join(_OPTION_NAMES)}",
                step=step,
            )
    return base.model_copy(update=update)


def _field_locator(trace: Trace, loc: RawLocation, option: str) -> Callable[[str], SourceLocation]:
    from mlcompile.dsl.location import option_location

    return lambda field: trace.location(option_location(loc, option, field))


def merge_options(
    base: ir.StepOptions, overrides: dict[str, Any], trace: Trace, loc: RawLocation, step: str
) -> ir.StepOptions:
    return _options_from_kwargs(overrides, trace, loc, step, base)


class StepDefinition(Generic[P, R]):
    """A decorated step. Called inside a pipeline it adds a task; called anywhere else it runs
    the plain function, so steps stay unit-testable."""

    def __init__(
        self,
        func: Callable[P, R],
        options: dict[str, Any],
        location: RawLocation,
        container: bool = False,
    ) -> None:
        self.func = func
        self.name: str = options.pop("name", None) or func.__name__
        self.options = options
        self.location = location
        self.is_container = container
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def __repr__(self) -> str:
        return f"<step {self.name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        trace = active_trace()
        if trace is None:
            return self.func(*args, **kwargs)
        return self._add_task(trace, args, kwargs)  # type: ignore[return-value]

    # ----- interface -----------------------------------------------------------------------

    def interface(self, trace: Trace) -> tuple[list[ir.Port], list[ir.Port]]:
        """Typed inputs and outputs from the signature; bad annotations are diagnosed."""
        loc = self.location
        try:
            hints = signature.hints(self.func)
        except Exception as exc:  # a NameError in a string annotation, for example
            trace.error(
                "MLC108",
                f"step {self.name!r}: its annotations cannot be resolved ({exc})",
                loc,
                "import every type used in the signature at module level",
                step=self.name,
            )
            hints = {}
        inputs: list[ir.Port] = []
        outputs: list[ir.Port] = []
        for param in inspect.signature(self.func).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                trace.error(
                    "MLC108",
                    f"step {self.name!r}: *{param.name} is not allowed in a step signature",
                    loc,
                    "declare every input as a named, typed parameter",
                    step=self.name,
                )
                continue
            typed = annotation_type(hints.get(param.name))
            if typed is None:
                trace.error(
                    "MLC108",
                    f"step {self.name!r}: parameter {param.name!r} has no supported type "
                    f"annotation ({self.func.__annotations__.get(param.name, 'none')!r})",
                    loc,
                    "annotate it as int, float, str, bool, list, dict, Input[Dataset] or Output[Model]",
                    step=self.name,
                )
                continue
            type_name, direction = typed
            if direction == "out" and not ir.is_artifact_type(type_name) and not self.is_container:
                trace.error(
                    "MLC108",
                    f"step {self.name!r}: Output[{type_name}] {param.name!r} is for container"
                    " steps, whose command writes the value to a file",
                    loc,
                    f"return the value instead: def {self.name}(...) -> {type_name}",
                    step=self.name,
                )
                continue
            if direction == "out":
                outputs.append(ir.Port(name=param.name, type=type_name))
                continue
            has_default = param.default is not inspect.Parameter.empty
            inputs.append(
                ir.Port(
                    name=param.name,
                    type=type_name,
                    default=param.default if has_default else None,
                    has_default=has_default,
                )
            )
        returned = hints.get("return", signature.NONE)
        declared = [p.name for p in outputs]
        outputs.extend(self._return_outputs(returned, trace))
        if returned.kind == "object" and getattr(returned.type, "_fields", None):
            declared = [p.name for p in outputs]  # NamedTuple fields are named by the user
        self._check_reserved(declared, len(outputs), trace)
        return inputs, outputs

    def _check_reserved(self, declared: list[str], count: int, trace: Trace) -> None:
        """Output names a step call's handle uses itself are refused where they are declared:
        ``task.after`` is the ordering method, and ``task.output`` means the step's return
        value, so outputs named so could not be read as the user meant."""
        for name in declared:
            if name in _RESERVED_OUTPUTS:
                what = f"task.{name} already means something else"
            elif name == "output" and count > 1:
                what = "task.output means the step's return value or only output"
            else:
                continue
            trace.error(
                "MLC122",
                f"step {self.name!r}: output {name!r} is a reserved name ({what})",
                self.location,
                f"rename the output, e.g. {name}_value",
                step=self.name,
            )

    def _return_outputs(self, annotation: signature.Annotation, trace: Trace) -> list[ir.Port]:
        if annotation.kind == "none" or (self.is_container and annotation.type is Command):
            return []
        typed = annotation_type(annotation)
        if typed is not None and typed[1] is None:
            return [ir.Port(name="output", type=typed[0])]
        cls = annotation.type
        fields = getattr(cls, "__annotations__", None)
        if annotation.kind == "object" and issubclass(cls, tuple) and fields:
            module = sys.modules.get(cls.__module__)
            namespace = dict(vars(module)) if module is not None else {}
            ports = []
            for name, field_type in fields.items():
                typed = annotation_type(signature.read(field_type, namespace))
                if typed is None or typed[1] is not None:
                    trace.error(
                        "MLC108",
                        f"step {self.name!r}: return field {name!r} is not a parameter type",
                        self.location,
                        "return fields are int, float, str, bool, list or dict; write artifacts "
                        "through Output[...] parameters",
                        step=self.name,
                    )
                    continue
                ports.append(ir.Port(name=name, type=typed[0]))
            return ports
        trace.error(
            "MLC108",
            f"step {self.name!r}: return annotation "
            f"{self.func.__annotations__.get('return')!r} is not supported",
            self.location,
            "return int, float, str, bool, list, dict, a NamedTuple of them, or None",
            step=self.name,
        )
        return []

    def component(self, trace: Trace) -> ir.Component:
        inputs, outputs = self.interface(trace)
        base = dict(
            name=self.name,
            description=inspect.cleandoc(self.func.__doc__ or ""),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            location=trace.ir_location(self.location),
        )
        if self.is_container:
            return ir.Component(
                kind="container", container=self._container_spec(trace, inputs, outputs), **base
            )
        return ir.Component(kind="function", function=self._function_code(trace), **base)

    def _function_code(self, trace: Trace) -> ir.FunctionCode:
        if "<locals>" in self.func.__qualname__:
            trace.error(
                "MLC207",
                f"step {self.name!r} is defined inside another function",
                self.location,
                "define steps at module level so that the step runtime can import them",
                step=self.name,
            )
        path = Path(inspect.getsourcefile(self.func) or self.location.path).resolve()
        try:
            rel: str | None = path.relative_to(trace.root).as_posix()
        except ValueError:
            rel = None
        if rel is None:
            # A step from an installed package: the image must have that package.
            return ir.FunctionCode(
                file=f"module:{self.func.__module__}", function=self.func.__qualname__, sha256=""
            )
        add_source(trace.sources, path, trace.root)
        return ir.FunctionCode(
            file=rel, function=self.func.__qualname__, sha256=closure_hash(trace.sources, rel)
        )

    def _container_spec(
        self, trace: Trace, inputs: list[ir.Port], outputs: list[ir.Port]
    ) -> ir.ContainerSpec:
        from mlcompile.dsl.container import trace_container

        image = self.options.get("image")
        return trace_container(self, trace, image, inputs, outputs)

    # ----- calls ---------------------------------------------------------------------------

    def _add_task(self, trace: Trace, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TaskHandle:
        call_site = caller_location()
        component_name = trace.register_component(self, lambda: self.component(trace))
        component = trace.components[component_name]
        options = _options_from_kwargs(
            self.options, trace, self.location, self.name, ir.StepOptions()
        )
        task_name = trace.unique_task_name(self.name)
        inputs = bind_inputs(component, args, kwargs, trace, call_site, task_name)
        builder = TaskBuilder(
            name=task_name,
            component=component_name,
            inputs=inputs,
            options=options,
            location=call_site,
        )
        return trace.add_task(builder, {p.name: p.type for p in component.outputs})


def bind_inputs(
    component: ir.Component,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    trace: Trace,
    call_site: RawLocation,
    task_name: str,
) -> dict[str, ir.Value]:
    """Match a call's arguments to the component's inputs; every mismatch is diagnosed."""
    names = [p.name for p in component.inputs]
    bound: dict[str, Any] = {}
    if len(args) > len(names):
        trace.error(
            "MLC101",
            f"step {component.name!r} takes {len(names)} inputs but {len(args)} were given",
            call_site,
            "pass inputs by name: step(data=..., n_estimators=...)",
            step=task_name,
        )
    bound.update(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            trace.error(
                "MLC101",
                f"step {component.name!r} has no input {key!r}." + did_you_mean(key, names),
                call_site,
                f"its inputs are: {', '.join(names) or 'none'}",
                step=task_name,
            )
            continue
        if key in bound:
            trace.error(
                "MLC101",
                f"step {component.name!r}: input {key!r} is given twice",
                call_site,
                "give each input once",
                step=task_name,
            )
        bound[key] = value
    values: dict[str, ir.Value] = {}
    for port in component.inputs:
        if port.name not in bound:
            continue  # a missing required input is reported by validation, once
        if isinstance(bound[port.name], UnknownHandle):
            trace.poisoned.add(task_name)  # already reported where the value was misspelt
            continue
        try:
            values[port.name] = to_value(bound[port.name])
        except DslUsageError as err:
            trace.error(
                err.code,
                f"step {component.name!r}, input {port.name!r}: {err.message}",
                call_site,
                err.hint,
                step=task_name,
            )
    return values


@overload
def step(func: Callable[P, R], /) -> StepDefinition[P, R]: ...


@overload
def step(
    *,
    name: str | None = None,
    image: str | None = None,
    packages: list[str] | tuple[str, ...] = (),
    resources: Resources | None = None,
    retries: int | Retry = 0,
    cache: bool = True,
    timeout: str | int | None = None,
    env: dict[str, str] | None = None,
    secrets: list[Any] | tuple[Any, ...] = (),
    display_name: str | None = None,
    kind: str = "processing",
    platform_options: dict[str, dict[str, Any]] | None = None,
    content_types: dict[str, str] | None = None,
) -> Callable[[Callable[P, R]], StepDefinition[P, R]]: ...


def step(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make a Python function a pipeline step.

    Parameters typed int/float/str/bool/list/dict are inputs; ``Input[Dataset]`` reads an
    artifact and ``Output[Model]`` writes one; the return value (a scalar or a NamedTuple of
    scalars) becomes output parameters.
    """
    location = caller_location()

    def wrap(f: Callable[..., Any]) -> StepDefinition[Any, Any]:
        return StepDefinition(f, dict(options), location)

    return wrap(func) if func is not None else wrap


def container_step(
    *, image: str, name: str | None = None, **options: Any
) -> Callable[[Callable[P, Command]], StepDefinition[P, Any]]:
    """Make a step that runs a container: the function returns the :class:`Command`."""
    location = caller_location()

    def wrap(f: Callable[P, Command]) -> StepDefinition[P, Any]:
        return StepDefinition(
            f, {"image": image, "name": name, **options}, location, container=True
        )

    return wrap


__all__ = ["Command", "StepDefinition", "container_step", "current_trace", "step"]
