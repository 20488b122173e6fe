"""Kubernetes components for Kubeflow: the pipeline's namespace and service account, secret
references, and a KServe InferenceService per endpoint.

No Secret object is ever created here: values stay in the secret store. With Azure Key Vault the
Secrets Store CSI driver syncs each named secret into a Kubernetes Secret of the same name while
a pod mounts it (a small pod here does), so compiled specs refer to secrets the same way on
every cloud.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

#: A container's and a pod's security context under the restricted Pod Security Standard.
RESTRICTED: Any = {
    "allow_privilege_escalation": False,
    "read_only_root_filesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
POD_SECURITY: Any = {
    "run_as_non_root": True,
    "run_as_user": 65532,
    "run_as_group": 65532,
    "fs_group": 65532,
    "seccomp_profile": {"type": "RuntimeDefault"},
}


class Replicas(TypedDict):
    """What each serving replica requests, and how many run."""

    cpu: str
    memory: str
    min_replicas: int
    max_replicas: int


class Namespace(pulumi.ComponentResource):
    """The namespace the pipelines of one environment run in: shared, so the platform stack
    owns it and each pipeline stack only adds its service account there."""

    namespace: k8s.core.v1.Namespace

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:kubernetes:Namespace", resource_name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            resource_name,
            metadata={"name": name, "labels": dict(labels)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.namespace.metadata.name})


class PipelineServiceAccount(pulumi.ComponentResource):
    """The service account one pipeline's pods run as, in the shared namespace, annotated with
    the cloud identity it maps to (IRSA role, GCP service account or Azure client id)."""

    service_account: k8s.core.v1.ServiceAccount

    def __init__(
        self,
        resource_name: str,
        *,
        namespace: str,
        service_account: str,
        annotations: Mapping[str, pulumi.Input[str]],
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:kubernetes:PipelineServiceAccount", resource_name, None, opts)
        self._label, self._account, self.namespace = resource_name, service_account, namespace
        self.service_account = k8s.core.v1.ServiceAccount(
            resource_name,
            metadata={
                "name": service_account,
                "namespace": namespace,
                "annotations": dict(annotations),
                "labels": dict(labels),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"service_account": self.service_account.metadata.name})

    def allow_serving(self, endpoints: Sequence[str]) -> None:
        """Let the pipeline's deploy step apply the InferenceServices it serves, and no others."""
        if not endpoints:
            return
        child = pulumi.ResourceOptions(parent=self)
        role = k8s.rbac.v1.Role(
            f"{self._label}-serving",
            metadata={"name": f"{self._account}-serving", "namespace": self.namespace},
            rules=[
                {
                    "api_groups": ["serving.kserve.io"],
                    "resources": ["inferenceservices"],
                    "resource_names": list(endpoints),
                    "verbs": ["get", "patch", "update"],
                },
                # Kubernetes cannot limit create by name (the object has none yet when the
                # request is authorised): the first apply of an InferenceService needs it.
                {
                    "api_groups": ["serving.kserve.io"],
                    "resources": ["inferenceservices"],
                    "verbs": ["create"],
                },
            ],
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{self._label}-serving",
            metadata={"name": f"{self._account}-serving", "namespace": self.namespace},
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": role.metadata.name,
            },
            subjects=[
                {"kind": "ServiceAccount", "name": self._account, "namespace": self.namespace}
            ],
            opts=child,
        )


#: The pod that keeps Key Vault secrets synced does nothing but hold the volume: the pause image.
SYNC_IMAGE = "registry.k8s.io/pause:3.10"
SYNC_RESOURCES: Any = {"cpu": "10m", "memory": "16Mi"}


class KeyVaultSecrets(pulumi.ComponentResource):
    """A SecretProviderClass that syncs the named Key Vault secrets into Kubernetes Secrets of
    the same names, read with the pipeline's workload identity."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        namespace: PipelineServiceAccount,
        vault_name: pulumi.Input[str],
        tenant_id: pulumi.Input[str],
        client_id: pulumi.Input[str],
        secrets: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:kubernetes:KeyVaultSecrets", resource_name, None, opts)
        objects = pulumi.Output.json_dumps(
            {"array": [f"objectName: {s}\nobjectType: secret" for s in secrets]}
        )
        k8s.apiextensions.CustomResource(
            resource_name,
            api_version="secrets-store.csi.x-k8s.io/v1",
            kind="SecretProviderClass",
            metadata={"name": name, "namespace": namespace.namespace},
            spec={
                "provider": "azure",
                "parameters": {
                    "clientID": client_id,
                    "keyvaultName": vault_name,
                    "tenantId": tenant_id,
                    "objects": objects,
                },
                "secretObjects": [
                    {"secretName": s, "type": "Opaque", "data": [{"objectName": s, "key": "value"}]}
                    for s in secrets
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The driver syncs the Kubernetes Secrets only while a pod mounts the volume
        # (https://secrets-store-csi-driver.sigs.k8s.io/topics/sync-as-kubernetes-secret),
        # and pipeline steps cannot mount a CSI volume (KFP's platform spec has none): this
        # pod mounts it, as the pipeline's identity, so the steps' secretAsEnv finds them.
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "secret-sync"}
        spec: Any = {
            "replicas": 1,
            "selector": {"match_labels": labels},
            "template": {
                "metadata": {"labels": {**labels, "azure.workload.identity/use": "true"}},
                "spec": {
                    "service_account_name": namespace.service_account.metadata.name,
                    "security_context": POD_SECURITY,
                    "containers": [
                        {
                            "name": "sync",
                            "image": SYNC_IMAGE,
                            "resources": {"requests": SYNC_RESOURCES, "limits": SYNC_RESOURCES},
                            "security_context": RESTRICTED,
                            "volume_mounts": [
                                {"name": "secrets", "mount_path": "/mnt/secrets", "read_only": True}
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "secrets",
                            "csi": {
                                "driver": "secrets-store.csi.k8s.io",
                                "read_only": True,
                                "volume_attributes": {"secretProviderClass": name},
                            },
                        }
                    ],
                },
            },
        }
        k8s.apps.v1.Deployment(
            f"{resource_name}-sync",
            metadata={"name": f"{name}-secret-sync", "namespace": namespace.namespace},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


class InferenceService(pulumi.ComponentResource):
    """A KServe InferenceService serving one model version, as the serving service account
    ``namespace`` (its own identity, which only reads models; never the pipeline's).

    The version is the storage URI in stack config; until one is set only a warning says which
    config key to set, since KServe cannot start without a model.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        namespace: PipelineServiceAccount,
        model_format: str,
        storage_uri: str | None,
        config_key: str,
        replicas: Replicas,
        logger_url: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``logger_url``: where KServe's inference logger posts each request (a CloudEvent),
        the request sink of the endpoint's drift monitor."""
        super().__init__("mlcompile:kubernetes:InferenceService", resource_name, None, opts)
        if storage_uri is None:
            pulumi.log.warn(
                f"endpoint {name}: no model version to serve yet; run "
                f"`pulumi config set {config_key} <storage URI>` and `pulumi up`",
                resource=self,
            )
            self.register_outputs({})
            return
        requests = {"cpu": replicas["cpu"], "memory": replicas["memory"]}
        predictor: dict[str, object] = {
            "serviceAccountName": namespace.service_account.metadata.name,
            "minReplicas": replicas["min_replicas"],
            "maxReplicas": replicas["max_replicas"],
            "model": {
                "modelFormat": {"name": model_format},
                "storageUri": storage_uri,
                "resources": {"requests": requests, "limits": requests},
            },
        }
        if logger_url is not None:
            predictor["logger"] = {"mode": "request", "url": logger_url}
        k8s.apiextensions.CustomResource(
            resource_name,
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            metadata={"name": name, "namespace": namespace.namespace},
            spec={"predictor": predictor},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def cluster(config: pulumi.Config) -> k8s.Provider:
    """The Kubernetes provider of a stack, from its own config (``kubeconfig``: a path or the
    file's contents, and ``kube-context``), never from whatever context is current here."""
    return k8s.Provider(
        "cluster", kubeconfig=config.require("kubeconfig"), context=config.require("kube-context")
    )
