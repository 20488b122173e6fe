"""The code bundle every function step downloads: the pipeline's sources and the step runtime.

A SageMaker job starts from a plain image, so the bundle carries what ``python -m
mlcompile.runtime sagemaker`` needs besides pip packages: the pipeline's source files (at their
paths relative to the project root) and the runtime's closure inside mlcompile (``dsl``, ``ir``,
``runtime`` and the package root). It is a deterministic tar.gz named by its sha256, so an
unchanged pipeline keeps its S3 key and SageMaker's step cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlcompile.build import deterministic_tar_gz
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import sha256_hex

#: Parts of the mlcompile package the step runtime imports.
RUNTIME_PARTS = ("__init__.py", "errors.py", "dsl", "ir", "runtime")


@dataclass(frozen=True)
class Bundle:
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)

    @property
    def file_name(self) -> str:
        return f"{self.sha256}.tar.gz"


def _runtime_files() -> dict[str, bytes]:
    import mlcompile

    root = Path(mlcompile.__file__).parent
    files: dict[str, bytes] = {}
    for part in RUNTIME_PARTS:
        path = root / part
        paths = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in paths:
            if "__pycache__" not in file.parts:
                files["mlcompile/" + file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def code_bundle(pipeline: ir.Pipeline) -> Bundle:
    files = _runtime_files()
    for path, source in pipeline.sources.items():
        files[path] = source.text.encode()
    return Bundle(deterministic_tar_gz(files))
