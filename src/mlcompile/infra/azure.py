"""Azure components: a Key Vault key (CMK), the artifact storage account and container, the
container registry, the alert channel and the workload identity Kubeflow pipeline pods run as.

Storage and the registry encrypt with the vault's rotating key through a user-assigned identity;
storage is HTTPS-only with TLS 1.2 at least, no public blob access and no shared keys; the
registry has no admin user and no anonymous pull. Only the submodules used are imported: the
full azure-native package takes far longer to load.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import (
    authorization,
    containerregistry,
    keyvault,
    managedidentity,
    monitor,
    resources,
    storage,
)
from pulumi_azure_native.provider import Provider

#: Built-in role definition ids (the same in every tenant).
_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
_ACR_PULL = "7f951dfd-4ed8-4f60-a1b2-83ccf3d3b6a1"
_KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _role(subscription: str, role: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def _assignment_name(*parts: str) -> str:
    """A stable GUID for a role assignment, so re-running the stack never duplicates it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(("mlcompile", *parts))))


def _grant(
    resource_name: str,
    *,
    subscription: str,
    role: str,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    key: str,
    parent: pulumi.Resource,
) -> authorization.RoleAssignment:
    return authorization.RoleAssignment(
        resource_name,
        role_assignment_name=_assignment_name(subscription, key, role),
        role_definition_id=_role(subscription, role),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        scope=scope,
        # The name comes from the inputs: a replacement must delete the old one first.
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
    )


def _user_assigned(identity_id: str) -> containerregistry.IdentityPropertiesArgsDict:
    """ACR takes its user-assigned identities as a map keyed by their resource ids."""
    return {
        "type": containerregistry.ResourceIdentityType.USER_ASSIGNED,
        "user_assigned_identities": {identity_id: {}},
    }


class Place:
    """The subscription, location and resource group everything is created in."""

    def __init__(self, subscription: str, location: str, group: pulumi.Input[str]) -> None:
        self.subscription = subscription
        self.location = location
        self.group_name = group


def kept(parent: pulumi.Resource | None, keep: bool) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: with ``keep`` (production) it is protected from
    deletion and, if the stack lets go of it anyway, left in the subscription."""
    # Unprotected, a replacement deletes first: the new one takes the same fixed name.
    return pulumi.ResourceOptions(
        parent=parent, protect=keep, retain_on_delete=keep, delete_before_replace=True
    )


def provider(subscription: str, location: str) -> Provider:
    """The stack's one Azure provider, pinned to the profile's subscription and location."""
    return Provider("azure-native", subscription_id=subscription, location=location)


class VaultAccess:
    """The Key Vault as the resources that use it see it: the vault itself in the platform
    stack, the platform stack's outputs in a pipeline stack."""

    vault_id: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    tenant_id: pulumi.Input[str]


class StorageAccess:
    container_id: pulumi.Input[str]


class RegistryAccess:
    registry_id: pulumi.Input[str]


def resource_group(
    name: str,
    *,
    location: str,
    keep: bool,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> resources.ResourceGroup:
    """The group everything of the environment is in (deleting it deletes them all)."""
    return resources.ResourceGroup(
        name,
        resource_group_name=name,
        location=location,
        tags=dict(tags),
        opts=kept(None, keep).merge(opts),
    )


class EncryptionKey(pulumi.ComponentResource, VaultAccess):
    """A Key Vault (RBAC, purge protection) holding a rotating RSA key, and the identity storage
    and the registry use to reach it."""

    vault: keyvault.Vault
    key: keyvault.Key
    identity: managedidentity.UserAssignedIdentity
    grant: authorization.RoleAssignment

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        identity_name: str,
        place: Place,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:EncryptionKey", resource_name, None, opts)
        tenant = authorization.get_client_config_output().tenant_id
        vault_properties: keyvault.VaultPropertiesArgsDict = {
            "tenant_id": tenant,
            "sku": {"family": "A", "name": keyvault.SkuName.STANDARD},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90,
            "enable_purge_protection": True,
        }
        self.vault = keyvault.Vault(
            resource_name,
            vault_name=name,
            resource_group_name=place.group_name,
            location=place.location,
            properties=vault_properties,
            tags=dict(tags),
            opts=kept(self, keep),
        )
        key_properties: keyvault.KeyPropertiesArgsDict = {
            "kty": "RSA",
            "key_size": 3072,
            "rotation_policy": {
                "attributes": {"expiry_time": "P2Y"},
                "lifetime_actions": [
                    {
                        "action": {"type": keyvault.KeyRotationPolicyActionType.ROTATE},
                        "trigger": {"time_after_create": "P90D"},
                    }
                ],
            },
        }
        self.key = keyvault.Key(
            f"{resource_name}-key",
            key_name=name,
            vault_name=self.vault.name,
            resource_group_name=place.group_name,
            properties=key_properties,
            tags=dict(tags),
            opts=kept(self, keep),
        )
        self.identity = managedidentity.UserAssignedIdentity(
            f"{resource_name}-identity",
            resource_name_=identity_name,
            resource_group_name=place.group_name,
            location=place.location,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.grant = _grant(
            f"{resource_name}-encryption-user",
            subscription=place.subscription,
            role=_CRYPTO_SERVICE_ENCRYPTION_USER,
            scope=self.vault.id,
            principal_id=self.identity.principal_id,
            key=identity_name,
            parent=self,
        )
        self.vault_id, self.vault_name = self.vault.id, self.vault.name
        self.tenant_id = tenant
        self.register_outputs({"vault": self.vault.id})


class ArtifactStorage(pulumi.ComponentResource, StorageAccess):
    """A storage account and blob container for artifacts: customer-managed key, HTTPS only,
    TLS 1.2 minimum, no public blob access, no shared keys, versioning and version cleanup."""

    account: storage.StorageAccount
    container: storage.BlobContainer

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        key: EncryptionKey,
        noncurrent_version_days: int,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:ArtifactStorage", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = storage.StorageAccount(
            resource_name,
            account_name=name,
            resource_group_name=place.group_name,
            location=place.location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS"},
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            identity={"type": "UserAssigned", "user_assigned_identities": [key.identity.id]},
            encryption={
                "key_source": "Microsoft.Keyvault",
                "require_infrastructure_encryption": True,
                "key_vault_properties": {
                    "key_name": key.key.name,
                    "key_vault_uri": key.vault.properties.vault_uri,
                },
                "encryption_identity": {"encryption_user_assigned_identity": key.identity.id},
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            tags=dict(tags),
            opts=kept(self, keep).merge(pulumi.ResourceOptions(depends_on=[key.grant])),
        )
        storage.BlobServiceProperties(
            f"{resource_name}-blob-service",
            account_name=self.account.name,
            resource_group_name=place.group_name,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy={"enabled": True, "days": 30},
            opts=child,
        )
        storage.ManagementPolicy(
            f"{resource_name}-lifecycle",
            account_name=self.account.name,
            resource_group_name=place.group_name,
            management_policy_name="default",
            policy={
                "rules": [
                    {
                        "name": "expire-superseded-versions",
                        "type": "Lifecycle",
                        "enabled": True,
                        "definition": {
                            "filters": {"blob_types": ["blockBlob"]},
                            "actions": {
                                "version": {
                                    "delete": {
                                        "days_after_creation_greater_than": noncurrent_version_days
                                    }
                                }
                            },
                        },
                    }
                ]
            },
            opts=child,
        )
        self.container = storage.BlobContainer(
            f"{resource_name}-container",
            container_name=name,
            account_name=self.account.name,
            resource_group_name=place.group_name,
            public_access=storage.PublicAccess.NONE,
            opts=kept(self, keep),
        )
        self.container_id = self.container.id
        self.register_outputs({"account": self.account.name})


class ContainerRegistry(pulumi.ComponentResource, RegistryAccess):
    """ACR for step images: Premium (the tier that takes a customer-managed key), no admin
    user, no anonymous pull."""

    registry: containerregistry.Registry

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        key: EncryptionKey,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:ContainerRegistry", resource_name, None, opts)
        self.registry = containerregistry.Registry(
            resource_name,
            registry_name=name,
            resource_group_name=place.group_name,
            location=place.location,
            sku={"name": "Premium"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            identity=key.identity.id.apply(_user_assigned),
            encryption={
                "status": "enabled",
                "key_vault_properties": {
                    "key_identifier": key.key.key_uri,
                    "identity": key.identity.client_id,
                },
            },
            tags=dict(tags),
            opts=kept(self, keep).merge(pulumi.ResourceOptions(depends_on=[key.grant])),
        )
        self.registry_id = self.registry.id
        self.register_outputs({"login_server": self.registry.login_server})


class AlertChannel(pulumi.ComponentResource):
    """The environment's one alert channel, in the platform stack: an Azure Monitor action group
    that mails each of ``emails`` (by a key that stays when others come and go) in the common
    alert schema, and a Service Health alert on the subscription that notifies it, so incidents
    and planned maintenance of the services the environment runs on reach the team:
    https://learn.microsoft.com/azure/service-health/alerts-activity-log-service-notifications-portal
    """

    group: monitor.ActionGroup

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        emails: Mapping[str, str],
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:AlertChannel", resource_name, None, opts)
        self.group = monitor.ActionGroup(
            resource_name,
            action_group_name=name,
            resource_group_name=place.group_name,
            # Action groups are global resources; the short name heads its SMS and mails.
            location="Global",
            group_short_name=name.removesuffix("-alert-channel")[:12],
            enabled=True,
            email_receivers=[
                {"name": f"email-{key}", "email_address": address, "use_common_alert_schema": True}
                for key, address in emails.items()
            ],
            tags=dict(tags),
            # A replacement takes the name: the old group goes first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        monitor.ActivityLogAlert(
            f"{resource_name}-service-health",
            activity_log_alert_name=f"{name}-service-health",
            resource_group_name=place.group_name,
            location="Global",
            scopes=[f"/subscriptions/{place.subscription}"],
            condition={"all_of": [{"field": "category", "equals": "ServiceHealth"}]},
            actions={"action_groups": [{"action_group_id": self.group.id}]},
            enabled=True,
            description="Azure incidents and maintenance in this subscription",
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.register_outputs({"group": self.group.id})


class WorkloadIdentity(pulumi.ComponentResource):
    """The identity Kubeflow pipeline pods assume through AKS workload identity: blob data on
    the artifact container, pull on the registry, and read on each named Key Vault secret."""

    identity: managedidentity.UserAssignedIdentity

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        oidc_issuer: str,
        namespace: str,
        service_account: str,
        store: StorageAccess,
        registry: RegistryAccess,
        key: VaultAccess,
        secrets: Sequence[str],
        tags: Mapping[str, str],
        read_only: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:WorkloadIdentity", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity = managedidentity.UserAssignedIdentity(
            resource_name,
            resource_name_=name,
            resource_group_name=place.group_name,
            location=place.location,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        managedidentity.FederatedIdentityCredential(
            f"{resource_name}-federation",
            federated_identity_credential_resource_name=service_account,
            resource_name_=self.identity.name,
            resource_group_name=place.group_name,
            issuer=oidc_issuer,
            subject=f"system:serviceaccount:{namespace}:{service_account}",
            audiences=["api://AzureADTokenExchange"],
            opts=child,
        )
        principal = self.identity.principal_id
        grants: list[tuple[str, str, pulumi.Input[str]]] = [
            # Serving only reads its models; the pipeline reads and writes artifacts.
            (
                "blob-data",
                _BLOB_DATA_READER if read_only else _BLOB_DATA_CONTRIBUTOR,
                store.container_id,
            ),
            ("acr-pull", _ACR_PULL, registry.registry_id),
        ]
        grants += [
            (
                f"secret-{secret}",
                _KEY_VAULT_SECRETS_USER,
                pulumi.Output.concat(key.vault_id, "/secrets/", secret),
            )
            for secret in secrets
        ]
        for label, role, scope in grants:
            _grant(
                f"{resource_name}-{label}",
                subscription=place.subscription,
                role=role,
                scope=scope,
                principal_id=principal,
                key=f"{name}/{label}",
                parent=self,
            )
        self.register_outputs({"client_id": self.identity.client_id})


# ----- the platform stack's outputs, and how a pipeline stack reads them -------------------

#: What the platform stack exports and pipeline stacks read, by output name.
PLATFORM_OUTPUTS = (
    "artifact_container_id",
    "step_registry_id",
    "step_registry_login_server",
    "vault_id",
    "vault_name",
    "tenant_id",
)


def export_platform(
    key: EncryptionKey, store: ArtifactStorage, registry: ContainerRegistry
) -> None:
    """Export everything a pipeline stack reads (``PLATFORM_OUTPUTS``), in the platform stack."""
    values: dict[str, pulumi.Input[str]] = {
        "artifact_container_id": store.container.id,
        "step_registry_id": registry.registry.id,
        "step_registry_login_server": registry.registry.login_server,
        "vault_id": key.vault.id,
        "vault_name": key.vault.name,
        "tenant_id": key.tenant_id,
    }
    for name in PLATFORM_OUTPUTS:
        pulumi.export(name, values[name])


#: The alert channel's outputs (the platform stack exports them beside ``PLATFORM_OUTPUTS``).
ALERT_OUTPUTS = ("alert_action_group_id",)


def export_alerts(channel: AlertChannel) -> None:
    """Export the action group alerts notify (``ALERT_OUTPUTS``)."""
    pulumi.export("alert_action_group_id", channel.group.id)


class _SharedVault(VaultAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.vault_id = platform.require_output("vault_id")
        self.vault_name = platform.require_output("vault_name")
        self.tenant_id = platform.require_output("tenant_id")


class _SharedStorage(StorageAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.container_id = platform.require_output("artifact_container_id")


class _SharedRegistry(RegistryAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.registry_id = platform.require_output("step_registry_id")


class Platform:
    """The platform stack as a pipeline stack sees it: the vault, storage and registry, read
    through a StackReference (never created again here)."""

    def __init__(self, stack: str, *, opts: pulumi.ResourceOptions | None = None) -> None:
        self.reference = pulumi.StackReference("platform", stack_name=stack, opts=opts)
        self.key: VaultAccess = _SharedVault(self.reference)
        self.store: StorageAccess = _SharedStorage(self.reference)
        self.registry: RegistryAccess = _SharedRegistry(self.reference)
