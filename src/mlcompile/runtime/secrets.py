"""Resolving secrets by reference at run time, inside the step, from the platform's store.

Specs carry only names. Kubernetes and Azure Key Vault (through the CSI driver) put values in
the environment before the step starts; AWS Secrets Manager and GCP Secret Manager are read by
the step itself, with the identity the pipeline runs as. Locally, values come from
``MLCOMPILE_SECRET_<NAME>`` environment variables.
"""

from __future__ import annotations

import os
import re
from typing import Any


class SecretUnavailable(Exception):
    """A referenced secret cannot be read; the message names the secret and the store, never a value."""


#: A secret's full name in a store (``projects/P/secrets/NAME/versions/V``, an ARN ending in
#: ``secret:NAME``): locally the same variable stands in for it as for ``NAME``.
_STORE_NAME = re.compile(r"^projects/[^/]+/secrets/([^/]+)(?:/versions/[^/]+)?$|:secret:([^:]+)$")


def local_variable(name: str) -> str:
    found = _STORE_NAME.search(name)
    short = next((g for g in found.groups() if g), name) if found else name
    return "MLCOMPILE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", short).upper()


def resolve(name: str, backend: str, *, key: str | None = None, project: str | None = None) -> str:
    """The value of secret ``name`` (or of field ``key`` inside a JSON secret)."""
    given = os.environ.get(local_variable(name))
    if backend == "local" or given is not None:
        # A value given on this machine stands in for the store (a local run of a compiled spec).
        value = given
        if value is None:
            raise SecretUnavailable(f"secret {name!r}: set {local_variable(name)} to run locally")
    elif backend == "aws-secrets-manager":
        import boto3  # imported here: only steps that read AWS secrets need it

        try:
            value = boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        except Exception as exc:
            raise SecretUnavailable(
                f"secret {name!r} in AWS Secrets Manager: {type(exc).__name__}"
            ) from None
    elif backend == "gcp-secret-manager":
        import google.cloud.secretmanager as secretmanager

        project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        path = (
            name
            if name.startswith("projects/")
            else f"projects/{project}/secrets/{name}/versions/latest"
        )
        try:
            response: Any = secretmanager.SecretManagerServiceClient().access_secret_version(
                name=path
            )
        except Exception as exc:
            raise SecretUnavailable(
                f"secret {name!r} in GCP Secret Manager: {type(exc).__name__}"
            ) from None
        value = response.payload.data.decode()
    else:
        raise SecretUnavailable(
            f"secret {name!r}: backend {backend!r} injects secrets as environment variables"
        )
    if key is not None:
        import json

        value = str(json.loads(value)[key])
    return value


def export(refs: list[dict[str, str | None]], backend: str) -> None:
    """Put each referenced secret into its environment variable, unless the platform already did."""
    for ref in refs:
        env, name = ref["env"], ref["name"]
        assert env and name
        if env not in os.environ:
            os.environ[env] = resolve(name, backend, key=ref.get("key"))
