"""What compile does with step images: pin each function step to its built image by digest,
and refuse a step that would install packages when it starts where the profile forbids it.

Pinning rewrites the IR the platform compilers see: the step's image becomes
``repo@sha256:...`` and its packages are dropped (they are in the image), so every platform
emits the digest and no install. A step whose environment has no built image keeps its own
image or the platform's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlcompile.errors import Diagnostic
from mlcompile.images.environment import environment_of
from mlcompile.images.record import Record
from mlcompile.ir import nodes as ir
from mlcompile.profiles import Profile


@dataclass
class Pins:
    """Per step path, the image reference it was pinned to; and the refusals."""

    images: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def pinned_for_compile(
    pipeline: ir.Pipeline, profile: Profile, build_dir: Path, spec: str, target: str
) -> tuple[ir.Pipeline, dict[str, str], list[Diagnostic]]:
    """The pipeline with every step whose image was built pinned to it (from the record in
    ``build_dir``), those images by step, and the steps that must not install at start."""
    from mlcompile.images.command import build_command
    from mlcompile.images.record import read_record, record_path

    record = read_record(record_path(build_dir))
    pinned, pins = pin_images(pipeline, profile, record, build_command(spec, target))
    return pinned, dict(sorted(pins.images.items())), pins.problems


def pin_images(
    pipeline: ir.Pipeline, profile: Profile, record: Record | None, command: str
) -> tuple[ir.Pipeline, Pins]:
    pins = Pins()
    usable = record if record is not None and record.profile == profile.name else None
    pinned = _pipeline(pipeline, profile, usable, pins, "", command)
    return pinned, pins


def _pipeline(
    pipeline: ir.Pipeline,
    profile: Profile,
    record: Record | None,
    pins: Pins,
    prefix: str,
    command: str,
) -> ir.Pipeline:
    def task(node: ir.Task) -> ir.Task:
        component = pipeline.components[node.component]
        path = f"{prefix}{node.name}"
        if component.function is None:
            return node
        environment = environment_of(node.options, profile)
        image = record.image_of(environment.key) if record is not None else None
        if image is not None:
            pins.images[path] = image
            options = node.options.model_copy(update={"image": image, "packages": ()})
            return node.model_copy(update={"options": options})
        if environment.packages and not profile.installs_at_start:
            pins.problems.append(
                Diagnostic(
                    "MLC503",
                    f"step {path!r} installs {', '.join(environment.packages)} when it starts, "
                    f"and profile {profile.name!r} forbids installing packages at step start "
                    "(images.install_at_start is off; it is by default in prod): every package "
                    "must be in the step's image, and no image is built for it",
                    node.location.source(),
                    f"build its image with `{command}`, then compile again",
                    platform=profile.platform,
                    step=path,
                )
            )
        return node

    def body(nodes: tuple[ir.BodyNode, ...]) -> tuple[ir.BodyNode, ...]:
        out: list[ir.BodyNode] = []
        for node in nodes:
            if isinstance(node, ir.Task):
                out.append(task(node))
            elif isinstance(node, ir.Condition):
                otherwise = body(node.otherwise) if node.otherwise is not None else None
                out.append(
                    node.model_copy(update={"then": body(node.then), "otherwise": otherwise})
                )
            else:
                out.append(node.model_copy(update={"body": body(node.body)}))
        return tuple(out)

    components = dict(pipeline.components)
    for scoped in _nested_tasks(pipeline):
        inner = components[scoped.component]
        assert inner.pipeline is not None
        nested = _pipeline(
            inner.pipeline, profile, record, pins, f"{prefix}{scoped.name}/", command
        )
        components[scoped.component] = inner.model_copy(update={"pipeline": nested})
    final = task(pipeline.final) if pipeline.final is not None else None
    return pipeline.model_copy(
        update={"body": body(pipeline.body), "final": final, "components": components}
    )


def _nested_tasks(pipeline: ir.Pipeline) -> list[ir.Task]:
    from mlcompile.ir.walk import scoped_tasks

    seen: set[str] = set()
    out = []
    for scoped in scoped_tasks(pipeline):
        component = pipeline.components[scoped.task.component]
        if component.pipeline is not None and scoped.task.component not in seen:
            seen.add(scoped.task.component)
            out.append(scoped.task)
    return out
