# Implements the executor contract of kfp.dsl.executor_main with mlcompile's runtime.
"""The start of every KFP step (Kubeflow, Vertex AI): check the code bundle, unpack it, run it.

A compiled step's command carries this file's text (``-c TEXT SHA256 ARGS``), so the
image needs nothing but Python. The code bundle (the user's sources and mlcompile's step side)
is an input artifact of the step, which KFP's launcher downloads (Kubeflow) or mounts (Vertex,
under ``/gcs/``); its sha256 must be the one compiled into the command, so a bundle changed in
the artifact store fails the step instead of running other code. Then the runtime's ``kfp``
adapter runs from the unpacked folder. Standard library only, Python 3.8+, and the text never
names the interpreter (kfp's local runner rewrites that name in commands).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

#: The input artifact that carries the code bundle.
CODE_INPUT = "mlcompile_code"
_MOUNTS = (("gs://", "/gcs/"), ("s3://", "/s3/"), ("minio://", "/minio/"))


def bundle_path(argv: list[str]) -> str:
    """Where the launcher put the code bundle, read from the executor input."""
    executor_input = json.loads(argv[argv.index("--executor_input") + 1])
    uri = str(executor_input["inputs"]["artifacts"][CODE_INPUT]["artifacts"][0]["uri"])
    for scheme, mount in _MOUNTS:
        if uri.startswith(scheme):
            return mount + uri[len(scheme) :]
    return uri


def unpack(path: str, expected: str) -> str:
    """The folder the verified bundle is unpacked in; exits when its sha256 is not ``expected``."""
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        sys.exit(
            f"mlcompile: the code bundle at {path} has sha256 {digest}, but this step was compiled for {expected}: "
            "it was changed or replaced after compiling; compile and deploy again"
        )
    root = tempfile.mkdtemp(prefix="mlcompile-code-")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:  # the bytes checked, not the file again
        members = tar.getmembers()
        for member in members:
            parts = member.name.split("/")
            if not member.isfile() or member.name.startswith("/") or ".." in parts:
                sys.exit(
                    f"mlcompile: the code bundle holds {member.name!r}, which is not a plain file"
                )
        tar.extractall(root, members)
    return root


def main(argv: list[str]) -> int:
    expected, rest = argv[0], argv[1:]
    root = unpack(bundle_path(rest), expected)
    sys.path.insert(0, root)
    os.environ["PYTHONPATH"] = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
    from mlcompile.runtime.__main__ import main as run

    code: int = run(["kfp", "--code-root", root, *rest])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
