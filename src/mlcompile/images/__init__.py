"""Step images: one deterministic build context per environment the steps need, built by the
builder the profile names, pushed to the stack's registry and pinned by digest in every spec.

- :mod:`.environment` which environment (base image, packages) each function step needs;
- :mod:`.lock` the requirements lock, resolved once per input and cached;
- :mod:`.context` the build context (Dockerfile, lock, step side) and its content hash;
- :mod:`.registry` the repository the stack creates, by the shared naming function;
- :mod:`.builders` local (podman, buildah, docker), CodeBuild, Cloud Build, ACR tasks;
- :mod:`.record` the file the compile reads (environment -> ``repo@sha256:...``);
- :mod:`.pin` what compile does with it, and the rule that forbids installing at step start;
- :mod:`.command` ``mlcompile images``.
"""
