"""The container command that runs a step through mlcompile's runtime under KFP's executor contract.

The command embeds what the step needs, so the compiled YAML is self-contained: the user's source
files are passed as arguments and written to a temporary folder, then
``python3 -m mlcompile.runtime kfp`` reads the executor input, calls the function and writes the
executor output. Packages (and mlcompile itself, when the image lacks it) are pip-installed
first, unless ``MLCOMPILE_PREINSTALLED=1`` is set in the step's environment: images built with the
packages, and offline runs such as kfp's local runner in CI, set it and install nothing.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from collections.abc import Sequence
from typing import Any

#: kfp's local runner runs only commands that mention its executor; this comment does.
_MARKER = "# Implements the executor contract of kfp.dsl.executor_main with mlcompile's runtime."
PREINSTALLED_VARIABLE = "MLCOMPILE_PREINSTALLED"


def runtime_command(
    *,
    function: str,
    files: Sequence[tuple[str, str]] = (),
    install: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """(command, args) running ``function`` (``path.py:name`` or ``module:pkg.mod:name``).

    ``files`` are (relative path, text) written before the run; ``install`` are pip requirement
    specifiers; ``options`` become ``--name JSON`` arguments of the runtime adapter.
    """
    lines = [_MARKER]
    if install:
        requirements = " ".join(shlex.quote(r) for r in install)
        lines += [
            f'if [ "${{{PREINSTALLED_VARIABLE}:-}}" != 1 ]; then',
            "  python3 -m pip install --quiet --no-warn-script-location"
            f" --disable-pip-version-check {requirements}",
            "fi",
        ]
    runtime = "exec python3 -m mlcompile.runtime kfp"
    if files:
        lines.append('code="$(mktemp -d)"')
        for i, (path, _) in enumerate(files, start=1):
            folder = posixpath.dirname(path)
            if folder:
                lines.append(f'mkdir -p "$code"/{shlex.quote(folder)}')
            lines.append(f'printf "%s" "${{{i}}}" > "$code"/{shlex.quote(path)}')
        lines.append(f"shift {len(files)}")
        runtime += ' --code-root "$code"'
    lines.append(f'{runtime} "$@"')
    command = ["sh", "-ec", "\n".join(lines) + "\n", "mlcompile-step", *(text for _, text in files)]
    args = ["--executor_input", "{{$}}", "--function", function]
    for name, value in sorted((options or {}).items()):
        args += [f"--{name}", json.dumps(value, sort_keys=True, separators=(",", ":"))]
    return command, args
