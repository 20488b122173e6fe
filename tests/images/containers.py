"""Container tooling for the image tests: a base image made from Debian without any registry,
a registry on 127.0.0.1, and podman/buildah settings that work on hybrid-cgroup hosts.

A missing tool skips the test that needs it, naming the tool; with CI=true it fails instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How the base image is made; its hash keys the cached root filesystem.
#: python3, not python3-minimal: the step side needs the whole standard library (tarfile).
BASE_RECIPE = ("debootstrap", "--variant=minbase", "--include=python3", "bookworm")
TOOLS_NEEDED = ("debootstrap", "buildah", "podman", "skopeo", "runc", "docker-registry")


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    message = (
        f"needs {', '.join(missing)} (apt-get install -y debootstrap buildah podman skopeo "
        "runc docker-registry)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlcompile-tests"


def base_rootfs_tar() -> Path:
    """The debootstrapped root filesystem as a tar, made once and cached by its recipe."""
    key = hashlib.sha256(" ".join(BASE_RECIPE).encode()).hexdigest()[:16]
    folder = cache_root() / f"base-{key}"
    tar = folder / "rootfs.tar"
    if tar.is_file():
        return tar
    folder.mkdir(parents=True, exist_ok=True)
    rootfs = folder / "rootfs"
    _remove(rootfs)
    subprocess.run([*BASE_RECIPE, str(rootfs)], check=True, capture_output=True, timeout=900)
    partial = folder / "rootfs.tar.partial"
    with tarfile.open(partial, "w") as out:
        for entry in sorted(rootfs.iterdir()):
            out.add(entry, arcname=entry.name)
    partial.replace(tar)
    _remove(rootfs)
    return tar


def _remove(rootfs: Path) -> None:
    """Delete a root filesystem, never following into a mount debootstrap left behind."""
    for mount in ("proc", "sys", "dev/pts"):
        if os.path.ismount(rootfs / mount):
            subprocess.run(["umount", "-l", str(rootfs / mount)], check=False)
    if not any(os.path.ismount(rootfs / m) for m in ("proc", "sys", "dev/pts")):
        shutil.rmtree(rootfs, ignore_errors=True)


def container_env(root: Path) -> dict[str, str]:
    """runc (crun refuses hybrid cgroups), ulimits within the host's, overlay storage in a
    temporary folder, chroot isolation for builds."""
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "containers.conf"
    conf.write_text(
        '[engine]\nruntime = "runc"\n'
        '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
    )
    storage = root / "storage.conf"
    storage.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    return {
        "CONTAINERS_CONF": str(conf),
        "CONTAINERS_STORAGE_CONF": str(storage),
        "BUILDAH_ISOLATION": "chroot",
    }


def release_storage(root: Path) -> None:
    """Unmount what the overlay driver mounted in ``root`` (its layer folder onto itself), so
    the temporary folder can be deleted."""
    # A bind mount of the same file system: os.path.ismount cannot see it, the mount table can.
    table = Path("/proc/self/mounts").read_text(encoding="utf-8").split("\n")
    mounted = {line.split(" ")[1] for line in table if line}
    for mount in sorted(mounted, reverse=True):
        if mount.startswith(f"{root}/"):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


def import_base(tar: Path, tag: str, env: dict[str, str], scratch: Path) -> str:
    """``FROM scratch`` + ``ADD rootfs.tar /``: a local image, no registry involved."""
    context = scratch / "base-context"
    context.mkdir(parents=True, exist_ok=True)
    os.link(tar, context / "rootfs.tar") if not (context / "rootfs.tar").exists() else None
    (context / "Containerfile").write_text('FROM scratch\nADD rootfs.tar /\nCMD ["python3"]\n')
    name = f"localhost/mlc-test-base:{tag}"
    subprocess.run(
        ["buildah", "bud", "--pull=false", "-t", name, str(context)],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
        timeout=600,
    )
    return name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(root: Path) -> Iterator[str]:
    """Debian's docker-registry (the CNCF distribution server) on a free port; stopped by PID."""
    port = free_port()
    config = root / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("docker-registry did not start") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
