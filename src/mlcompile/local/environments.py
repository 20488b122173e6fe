"""A Python environment per distinct set of step packages, as the platforms give each step its
own image: cached in the store by (interpreter, packages), built once with uv.

A set this interpreter already satisfies runs here, as before. Otherwise a virtual environment
is created under ``STORE/envs/<key>/`` with the packages installed, layered over this
interpreter's site-packages (a ``.pth`` that adds them after its own), so the step runtime and
the project's own dependencies stay importable while the step's pins win.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import site
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Written last: an environment without it was interrupted and is built again.
_COMPLETE = ".mlcompile-complete"


#: Distributions that install the same importable library under another name: XGBoost's
#: CPU-only wheel is ``xgboost-cpu`` (https://xgboost.readthedocs.io/en/stable/install.html).
_ALSO_PROVIDED_BY: dict[str, tuple[str, ...]] = {"xgboost": ("xgboost-cpu",)}


class PackagesUnavailable(Exception):
    """The packages cannot be installed; the message says why, in uv's words."""


def satisfied(packages: tuple[str, ...]) -> bool:
    """True when every requirement is installed here in a version it accepts."""
    from packaging.requirements import InvalidRequirement, Requirement

    for spec in packages:
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            return False
        if req.marker is not None and not req.marker.evaluate():
            continue
        if req.url:
            return False
        installed = _installed(req.name)
        if installed is None:
            return False
        if not req.specifier.contains(installed, prereleases=True):
            return False
    return True


def _installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or of one providing the same library."""
    for candidate in (name, *_ALSO_PROVIDED_BY.get(name.lower(), ())):
        try:
            return version(candidate)
        except PackageNotFoundError:
            continue
    return None


def uv_executable() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


def environment_key(packages: tuple[str, ...]) -> str:
    data = {
        "python": sys.executable,
        "version": list(sys.version_info[:3]),
        "packages": sorted(packages),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def python_for(packages: tuple[str, ...], store: Path, timeout: float = 600) -> str | None:
    """The interpreter a step with ``packages`` runs on: None for this one, else the cached
    environment's (built now if needed). Raises PackagesUnavailable when it cannot be built."""
    if not packages or satisfied(packages):
        return None
    folder = store / "envs" / environment_key(packages)
    python = folder / "bin" / "python"
    if (folder / _COMPLETE).is_file() and python.exists():
        return str(python)
    uv = uv_executable()
    if uv is None:
        raise PackagesUnavailable(
            "they are not installed here and uv, which would install them in an environment of"
            " their own, is not on PATH (pip install uv)"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _uv(uv, ["venv", "--quiet", "--python", sys.executable, str(folder)], timeout)
    _layer_over_this_interpreter(python)
    _uv(uv, ["pip", "install", "--quiet", "--python", str(python), *packages], timeout)
    (folder / _COMPLETE).write_text(json.dumps(sorted(packages)) + "\n", encoding="utf-8")
    return str(python)


def _uv(uv: str, args: list[str], timeout: float) -> None:
    try:
        result = subprocess.run(
            [uv, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise PackagesUnavailable(f"uv {args[0]} took longer than {timeout:.0f}s") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()][-6:]
        raise PackagesUnavailable("uv says: " + " / ".join(line.strip() for line in lines))


def _layer_over_this_interpreter(python: Path) -> None:
    found = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    own = Path(found.stdout.strip())
    lines = [f"import site; site.addsitedir({p!r})" for p in site.getsitepackages()]
    (own / "_mlcompile_base.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
