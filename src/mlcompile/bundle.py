"""The code bundle every function step downloads: the pipeline's sources and the step runtime.

A step starts from a plain image (a SageMaker job, a Kubeflow pod, a Vertex task), so the bundle
carries what ``python -m mlcompile.runtime ADAPTER`` needs besides pip packages: the pipeline's
source files (at their paths relative to the project root) and the step side of mlcompile
(:func:`mlcompile.runtime.ship.step_side_files`: standard library only, Python 3.8+, so the
platforms' framework images run it as they are). It is a deterministic tar.gz named by its sha256, so an
unchanged pipeline keeps its object key and the platform's step cache. It is written to
``code/<sha256>.tar.gz`` in the build folder and uploaded by ``deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcompile.build import deterministic_tar_gz
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import sha256_hex
from mlcompile.runtime.sagemaker_serving import PROGRAM, SHIM
from mlcompile.runtime.ship import step_side_files


@dataclass(frozen=True)
class Bundle:
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)

    @property
    def file_name(self) -> str:
        return f"{self.sha256}.tar.gz"

    @property
    def key(self) -> str:
        """Its path in a build folder, and under the artifact store's pipeline root."""
        return f"code/{self.file_name}"


def code_bundle(pipeline: ir.Pipeline) -> Bundle:
    files = step_side_files()
    files[PROGRAM] = SHIM.encode()  # the serving script SageMaker's containers import
    for path, source in pipeline.sources.items():
        files[path] = source.text.encode()
    return Bundle(deterministic_tar_gz(files))
