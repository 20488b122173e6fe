"""The images record (``images.json``): which image, by digest, each environment was built as.

``mlcompile images`` writes it beside the build (``build/<profile>/images/images.json``);
compile reads it and pins every step whose environment is in it. Environments are keyed by
their content, so a record never pins a step whose image or packages changed since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD_FILE = "images.json"
IMAGES_FOLDER = "images"


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    digest: str  # sha256:<hex>
    repository: str
    base: str
    packages: tuple[str, ...]
    built: bool  # False: the registry had the tag already (a lookup, no build)

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class Record:
    profile: str
    repository: str
    environments: dict[str, BuiltImage]  # environment key -> image
    steps: dict[str, str]  # step path -> environment key

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "repository": self.repository,
            "environments": {
                key: {
                    "tag": image.tag,
                    "digest": image.digest,
                    "image": image.reference,
                    "base": image.base,
                    "packages": list(image.packages),
                }
                for key, image in sorted(self.environments.items())
            },
            "steps": dict(sorted(self.steps.items())),
        }

    def image_of(self, environment_key: str) -> str | None:
        image = self.environments.get(environment_key)
        return image.reference if image else None


def record_path(build_dir: Path) -> Path:
    return build_dir / IMAGES_FOLDER / RECORD_FILE


def read_record(path: Path) -> Record | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    repository = str(data["repository"])
    return Record(
        profile=str(data["profile"]),
        repository=repository,
        environments={
            key: BuiltImage(
                tag=str(item["tag"]),
                digest=str(item["digest"]),
                repository=repository,
                base=str(item["base"]),
                packages=tuple(item["packages"]),
                built=False,
            )
            for key, item in data["environments"].items()
        },
        steps={str(k): str(v) for k, v in data["steps"].items()},
    )
