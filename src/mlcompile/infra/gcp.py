"""GCP components: the CMEK key and its service-agent grants, the artifact bucket, Artifact
Registry repositories, the pipeline's service account, a Vertex endpoint and the schedule.

Everything that stores data is encrypted with one customer-managed key; the service agents of
Cloud Storage, Artifact Registry and Vertex AI are granted that key before anything uses it.
Roles are the narrowest predefined ones, bound on the resource where GCP allows it.

Schedules use Cloud Scheduler calling the ``pipelineJobs.create`` REST API with an OAuth token of
the pipeline's service account: pulumi-gcp has no Vertex pipeline resource and ``vertex.AiSchedule``
is being deprecated upstream. The job runs the pipeline template ``mlcompile deploy`` uploads to
the KFP-format repository under the tag ``latest``, so a new pipeline version needs no stack change.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_gcp as gcp

_ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
#: APIs the stack's resources need; never disabled on destroy (other stacks may use them).
_SERVICES = (
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "workflows.googleapis.com",
)


class Place(TypedDict):
    """The project and region resources are created in."""

    project: str
    region: str


class Cron(TypedDict):
    """A five-field cron expression and its IANA time zone."""

    cron: str
    timezone: str


def kept(parent: pulumi.Resource, keep: bool) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: with ``keep`` (production) it is protected from
    deletion and, if the stack lets go of it anyway, left in the project rather than deleted."""
    # Unprotected, a replacement deletes first: the new one takes the same fixed name.
    return pulumi.ResourceOptions(
        parent=parent, protect=keep, retain_on_delete=keep, delete_before_replace=True
    )


def provider(place: Place) -> gcp.Provider:
    """The stack's one GCP provider, pinned to the profile's project and region."""
    return gcp.Provider("gcp", project=place["project"], region=place["region"])


class KeyAccess:
    """The CMEK key as the resources that use it see it: the key itself in the platform stack,
    the platform stack's output in a pipeline stack (whose service agents it already granted)."""

    key_id: pulumi.Output[str]
    grants: list[pulumi.Resource]
    place: Place


class BucketAccess:
    bucket_name: pulumi.Input[str]


class RepositoryAccess:
    label: str
    repository_name: pulumi.Input[str]


class EncryptionKey(pulumi.ComponentResource, KeyAccess):
    """A rotating CMEK key (or the profile's existing one) that the Cloud Storage service agent
    and the agents of ``agents`` (Artifact Registry, Vertex AI, Pub/Sub, ...) may use."""

    key_id: pulumi.Output[str]
    grants: list[pulumi.Resource]

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        existing_key: str | None,
        agents: Sequence[str],
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:EncryptionKey", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        services = [
            gcp.projects.Service(
                f"{resource_name}-{service.split('.')[0]}",
                project=place["project"],
                service=service,
                disable_on_destroy=False,
                opts=child,
            )
            for service in _SERVICES
        ]
        after_services = pulumi.ResourceOptions(parent=self, depends_on=services)
        if existing_key is None:
            ring = gcp.kms.KeyRing(
                f"{resource_name}-ring",
                name=name,
                location=place["region"],
                project=place["project"],
                opts=after_services,
            )
            key = gcp.kms.CryptoKey(
                resource_name,
                name=name,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period="7776000s",
                labels=dict(labels),
                # Cloud KMS never deletes a key: protected and retained in every environment.
                opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
            )
            self.key_id = key.id
        else:
            self.key_id = pulumi.Output.from_input(existing_key)
        storage_agent = gcp.storage.get_project_service_account_output(project=place["project"])
        # BigQuery encrypts a dataset's tables (an endpoint's request log) as its own account.
        bigquery_agent = gcp.bigquery.get_default_service_account_output(project=place["project"])
        members: list[tuple[str, pulumi.Input[str]]] = [
            ("storage", storage_agent.member),
            ("bigquery", bigquery_agent.member),
        ]
        for service in agents:
            agent = gcp.projects.ServiceIdentity(
                f"{resource_name}-{service.split('.')[0]}-agent",
                project=place["project"],
                service=service,
                opts=after_services,
            )
            members.append((service.split(".")[0], agent.member))
        self.grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{resource_name}-{who}",
                crypto_key_id=self.key_id,
                role=_ENCRYPTER,
                member=member,
                opts=child,
            )
            for who, member in members
        ]
        self.place = place
        self.register_outputs({"key": self.key_id})


class ArtifactBucket(pulumi.ComponentResource, BucketAccess):
    """The bucket every artifact goes to: CMEK, uniform access, public access prevented,
    versioned, old versions and abandoned uploads cleaned up."""

    bucket: gcp.storage.Bucket

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        key: KeyAccess,
        noncurrent_version_days: int,
        keep: bool,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:ArtifactBucket", resource_name, None, opts)
        self.bucket = gcp.storage.Bucket(
            resource_name,
            name=name,
            project=place["project"],
            location=place["region"].upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": key.key_id},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"days_since_noncurrent_time": noncurrent_version_days},
                },
                {
                    "action": {"type": "AbortIncompleteMultipartUpload"},
                    "condition": {"age": 7},
                },
            ],
            force_destroy=False,
            labels=dict(labels),
            opts=kept(self, keep).merge(pulumi.ResourceOptions(depends_on=key.grants)),
        )
        self.bucket_name = self.bucket.name
        self.register_outputs({"url": self.bucket.url})


class Repository(pulumi.ComponentResource, RepositoryAccess):
    """An Artifact Registry repository under the CMEK key: step images (DOCKER, immutable tags,
    scanned) or pipeline templates (KFP)."""

    repository: gcp.artifactregistry.Repository

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        format: str,
        place: Place,
        key: KeyAccess,
        keep: bool,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:Repository", resource_name, None, opts)
        self.label = resource_name
        docker = format == "DOCKER"
        self.repository = gcp.artifactregistry.Repository(
            resource_name,
            repository_id=name,
            format=format,
            location=place["region"],
            project=place["project"],
            kms_key_name=key.key_id,
            docker_config={"immutable_tags": True} if docker else None,
            vulnerability_scanning_config={"enablement_config": "INHERITED"} if docker else None,
            labels=dict(labels),
            opts=kept(self, keep).merge(pulumi.ResourceOptions(depends_on=key.grants)),
        )
        self.repository_name = self.repository.name
        self.register_outputs({"id": self.repository.id})


#: Where deploy uploads code bundles (``code/<sha256>.tar.gz``).
CODE_PREFIX = "code/"


def _outside_code(bucket: str) -> gcp.storage.BucketIAMMemberConditionArgsDict:
    return {
        "title": "outside-code-bundles",
        "description": "Everything but the code bundles deploy uploads",
        "expression": (
            f'!resource.name.startsWith("projects/_/buckets/{bucket}/objects/{CODE_PREFIX}")'
        ),
    }


class PipelineServiceAccount(pulumi.ComponentResource):
    """The service account pipeline jobs run as: Vertex AI user and log writer on the project
    (the narrowest roles that run pipeline jobs), object admin on its bucket only, reader on its
    repositories, accessor on the named secrets, and user of itself so jobs can run as it."""

    account: gcp.serviceaccount.Account

    def __init__(
        self,
        resource_name: str,
        *,
        account_id: str,
        place: Place,
        bucket: BucketAccess,
        repositories: Sequence[RepositoryAccess],
        secrets: Sequence[str],
        workload: str | None,
        project_roles: Sequence[str],
        read_only: bool = False,
        imports: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:PipelineServiceAccount", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = gcp.serviceaccount.Account(
            resource_name,
            account_id=account_id,
            display_name=f"Pipeline identity {account_id}",
            project=place["project"],
            opts=child,
        )
        member = self.account.member
        for role in project_roles:
            gcp.projects.IAMMember(
                f"{resource_name}-{role.split('/')[-1]}",
                project=place["project"],
                role=role,
                member=member,
                opts=child,
            )
        if not read_only:  # serving only reads its models
            # Objects anywhere but under code/: only deploy's identity writes code bundles.
            gcp.storage.BucketIAMMember(
                f"{resource_name}-bucket",
                bucket=bucket.bucket_name,
                role="roles/storage.objectAdmin",
                member=member,
                condition=pulumi.Output.from_input(bucket.bucket_name).apply(_outside_code),
                opts=child,
            )
        gcp.storage.BucketIAMMember(
            f"{resource_name}-bucket-read",
            bucket=bucket.bucket_name,
            role="roles/storage.objectViewer",
            member=member,
            opts=child,
        )
        # The data the pipeline imports: reading the named object (or prefix) only. A condition
        # on a bucket binding needs the bucket's uniform bucket-level access.
        for index, uri in enumerate(u for u in imports if u.startswith("gs://")):
            data_bucket, _, key = uri[len("gs://") :].partition("/")
            gcp.storage.BucketIAMMember(
                f"{resource_name}-import-{index}",
                bucket=data_bucket,
                role="roles/storage.objectViewer",
                member=member,
                condition={
                    "title": "imported data",
                    "description": f"Objects under {uri}",
                    "expression": (
                        f'resource.name.startsWith("projects/_/buckets/{data_bucket}/objects/{key}")'
                    ),
                },
                opts=child,
            )
        for repository in repositories:
            gcp.artifactregistry.RepositoryIamMember(
                f"{resource_name}-{repository.label}",
                project=place["project"],
                location=place["region"],
                repository=repository.repository_name,
                role="roles/artifactregistry.reader",
                member=member,
                opts=child,
            )
        for secret in secrets:
            gcp.secretmanager.SecretIamMember(
                f"{resource_name}-secret-{secret}",
                project=place["project"],
                secret_id=f"projects/{place['project']}/secrets/{secret}",
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=child,
            )
        gcp.serviceaccount.IAMMember(
            f"{resource_name}-act-as-self",
            service_account_id=self.account.name,
            role="roles/iam.serviceAccountUser",
            member=member,
            opts=child,
        )
        if workload is not None:
            gcp.serviceaccount.IAMMember(
                f"{resource_name}-workload-identity",
                service_account_id=self.account.name,
                role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{workload}",
                opts=child,
            )
        self.register_outputs({"email": self.account.email})


class VertexEndpoint(pulumi.ComponentResource):
    """A Vertex AI endpoint under the CMEK key; the pipeline's deploy step deploys models to it."""

    endpoint: gcp.vertex.AiEndpoint

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        endpoint_id: str,
        place: Place,
        key: KeyAccess,
        labels: Mapping[str, str],
        request_log: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``request_log``: the BigQuery table (``bq://PROJECT.DATASET.TABLE``, the dataset
        existing and the table not) Vertex logs every request and response to, for a monitor."""
        super().__init__("mlcompile:gcp:VertexEndpoint", resource_name, None, opts)
        # The id comes from the name (mlcompile.naming.vertex_endpoint_id), so the compiled
        # pipeline deploys to the endpoint this creates.
        self.name, self.endpoint_id = name, endpoint_id
        self.endpoint = gcp.vertex.AiEndpoint(
            resource_name,
            name=self.endpoint_id,
            display_name=name,
            location=place["region"],
            region=place["region"],
            project=place["project"],
            encryption_spec={"kms_key_name": key.key_id},
            predict_request_response_logging_config=None
            if request_log is None
            else {
                "enabled": True,
                "sampling_rate": 1.0,
                "bigquery_destination": {"output_uri": request_log},
            },
            labels=dict(labels),
            # Its id comes from the name: a replacement (a new key) deletes the old one first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=key.grants, delete_before_replace=True
            ),
        )
        self.register_outputs({"id": self.endpoint.id})


def pipeline_jobs_url(place: Place) -> str:
    """The ``pipelineJobs.create`` REST method of the project and region."""
    project, region = place["project"], place["region"]
    return f"https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/pipelineJobs"


def pipeline_job_request(
    *,
    pipeline: str,
    place: Place,
    templates: Repository,
    bucket: BucketAccess,
    key: KeyAccess,
    identity: PipelineServiceAccount,
    labels: Mapping[str, str],
    parameters: Mapping[str, object] | None = None,
) -> pulumi.Output[dict[str, object]]:
    """The PipelineJob a schedule or a trigger creates: the latest template, the run folder in
    the bucket, the CMEK key and the pipeline's service account, with ``parameters`` if any."""
    project, region = place["project"], place["region"]

    def body(v: list[str]) -> dict[str, object]:
        runtime: dict[str, object] = {"gcsOutputDirectory": f"gs://{v[1]}/runs"}
        if parameters:
            runtime["parameterValues"] = dict(sorted(parameters.items()))
        return {
            "displayName": pipeline,
            "templateUri": f"https://{region}-kfp.pkg.dev/{project}/{v[0]}/{pipeline}/latest",
            "runtimeConfig": runtime,
            "encryptionSpec": {"kmsKeyName": v[2]},
            "serviceAccount": v[3],
            "labels": dict(labels),
        }

    return pulumi.Output.all(
        templates.repository.repository_id,
        bucket.bucket_name,
        key.key_id,
        identity.account.email,
    ).apply(body)


class PipelineSchedule(pulumi.ComponentResource):
    """A Cloud Scheduler job that creates a Vertex pipeline job from the latest template, as the
    pipeline's service account, encrypted with the CMEK key."""

    job: gcp.cloudscheduler.Job

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        pipeline: str,
        place: Place,
        when: Cron,
        templates: Repository,
        bucket: BucketAccess,
        key: KeyAccess,
        identity: PipelineServiceAccount,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:PipelineSchedule", resource_name, None, opts)
        project, region = place["project"], place["region"]
        request = pipeline_job_request(
            pipeline=pipeline,
            place=place,
            templates=templates,
            bucket=bucket,
            key=key,
            identity=identity,
            labels=labels,
        ).apply(lambda body: json.dumps(body, sort_keys=True))
        self.job = gcp.cloudscheduler.Job(
            resource_name,
            name=name,
            project=project,
            region=region,
            schedule=when["cron"],
            time_zone=when["timezone"],
            attempt_deadline="320s",
            http_target={
                "uri": pipeline_jobs_url(place),
                "http_method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": request.apply(lambda text: base64.b64encode(text.encode()).decode()),
                "oauth_token": {
                    "service_account_email": identity.account.email,
                    "scope": "https://www.googleapis.com/auth/cloud-platform",
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"job": self.job.name})


class AlertAccess:
    """The alert channel as its publishers see it: the platform stack's Pub/Sub topic and the
    Cloud Monitoring notification channel that publishes to it."""

    topic_name: pulumi.Input[str]
    topic_id: pulumi.Input[str]
    #: Every channel an alert policy notifies: the topic's, then one per email address.
    channel_names: pulumi.Input[Sequence[str]]


class AlertChannel(pulumi.ComponentResource, AlertAccess):
    """The environment's one alert channel, in the platform stack: a Pub/Sub topic under the
    CMEK key (subscribe any pager or chat bridge to it) and the Cloud Monitoring channel that
    publishes to it, as the Monitoring service agent:
    https://cloud.google.com/monitoring/support/notification-options#pubsub
    and an email channel for each of ``emails`` (by a key that stays when others come and go).
    """

    channel: gcp.monitoring.NotificationChannel
    topic: gcp.pubsub.Topic

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        key: KeyAccess,
        labels: Mapping[str, str],
        emails: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:AlertChannel", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = key.place["project"]
        self.topic = topic = gcp.pubsub.Topic(
            resource_name,
            name=name,
            project=project,
            kms_key_name=key.key_id,
            message_retention_duration="604800s",
            labels=dict(labels),
            # A replacement takes the name: the old topic goes first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=key.grants, delete_before_replace=True
            ),
        )
        agent = gcp.projects.ServiceIdentity(
            f"{resource_name}-monitoring-agent",
            project=project,
            service="monitoring.googleapis.com",
            opts=child,
        )
        publisher = gcp.pubsub.TopicIAMMember(
            f"{resource_name}-monitoring-publishes",
            project=project,
            topic=topic.name,
            role="roles/pubsub.publisher",
            member=agent.member,
            opts=child,
        )
        self.channel = gcp.monitoring.NotificationChannel(
            resource_name,
            project=project,
            display_name=f"Alerts of {name}",
            type="pubsub",
            labels={"topic": topic.id},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[publisher]),
        )
        mailed = [
            gcp.monitoring.NotificationChannel(
                f"{resource_name}-email-{key}",
                project=project,
                display_name=f"Alerts of {name} to {address}",
                type="email",
                labels={"email_address": address},
                opts=child,
            )
            for key, address in (emails or {}).items()
        ]
        self.topic_name, self.topic_id = topic.name, topic.id
        self.channel_names = pulumi.Output.all(self.channel.name, *(c.name for c in mailed))
        self.register_outputs({"topic": topic.id})


class FailureAlert(pulumi.ComponentResource):
    """An alert on every failed run of the pipeline, to the platform stack's channel.

    A failed run is matched in its logs: Vertex writes the job's errors under the PipelineJob
    resource, whose id starts with the pipeline name when runs are submitted by name.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        pipeline: str,
        place: Place,
        alerts: AlertAccess,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:FailureAlert", resource_name, None, opts)
        job_filter = (
            'resource.type="aiplatform.googleapis.com/PipelineJob" AND severity>=ERROR'
            f' AND resource.labels.pipeline_job_id=~"^{pipeline}-"'
        )
        gcp.monitoring.AlertPolicy(
            f"{resource_name}-pipeline-failed",
            project=place["project"],
            display_name=f"{pipeline}: a pipeline run failed",
            combiner="OR",
            severity="ERROR",
            conditions=[
                {
                    "display_name": "Pipeline job logged an error",
                    "condition_matched_log": {"filter": job_filter},
                }
            ],
            alert_strategy={"notification_rate_limit": {"period": "300s"}},
            notification_channels=alerts.channel_names,
            user_labels=dict(labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


class EndpointAlerts(pulumi.ComponentResource):
    """An alert on any prediction error at a Vertex endpoint within five minutes, whichever
    model the pipeline last deployed to it."""

    def __init__(
        self,
        resource_name: str,
        *,
        endpoint: VertexEndpoint,
        alerts: AlertAccess,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:EndpointAlerts", resource_name, None, opts)
        errors = (
            'resource.type="aiplatform.googleapis.com/Endpoint"'
            ' AND metric.type="aiplatform.googleapis.com/prediction/online/error_count"'
            f' AND resource.labels.endpoint_id="{endpoint.endpoint_id}"'
        )
        gcp.monitoring.AlertPolicy(
            resource_name,
            project=endpoint.endpoint.project,
            display_name=f"{endpoint.name}: prediction errors",
            combiner="OR",
            severity="ERROR",
            conditions=[
                {
                    "display_name": "Prediction errors in 5 minutes",
                    "condition_threshold": {
                        "filter": errors,
                        "comparison": "COMPARISON_GT",
                        "threshold_value": 0,
                        "duration": "0s",
                        "aggregations": [
                            {"alignment_period": "300s", "per_series_aligner": "ALIGN_SUM"}
                        ],
                    },
                }
            ],
            notification_channels=alerts.channel_names,
            user_labels=dict(labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


# ----- the platform stack's outputs, and how a pipeline stack reads them -------------------

#: What the platform stack exports and pipeline stacks read, by output name.
PLATFORM_OUTPUTS = ("artifact_bucket", "encryption_key", "step_image_repository")


def export_platform(key: EncryptionKey, bucket: ArtifactBucket, images: Repository) -> None:
    """Export everything a pipeline stack reads (``PLATFORM_OUTPUTS``), in the platform stack."""
    values: dict[str, pulumi.Input[str]] = {
        "artifact_bucket": bucket.bucket.name,
        "encryption_key": key.key_id,
        "step_image_repository": images.repository.name,
    }
    for name in PLATFORM_OUTPUTS:
        pulumi.export(name, values[name])


#: The alert channel's outputs (the platform stack exports them beside ``PLATFORM_OUTPUTS``).
ALERT_OUTPUTS = ("alert_topic", "alert_topic_name", "alert_channels")


def export_alerts(channel: AlertChannel) -> None:
    """Export the alert channel pipeline stacks publish to (``ALERT_OUTPUTS``)."""
    pulumi.export("alert_topic", channel.topic.id)
    pulumi.export("alert_topic_name", channel.topic.name)
    pulumi.export("alert_channels", channel.channel_names)


class _SharedAlerts(AlertAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.topic_id = platform.require_output("alert_topic")
        self.topic_name = platform.require_output("alert_topic_name")
        self.channel_names = platform.require_output("alert_channels")


class _SharedKey(KeyAccess):
    def __init__(self, platform: pulumi.StackReference, place: Place) -> None:
        self.key_id = platform.require_output("encryption_key")
        self.grants = []
        self.place = place


class _SharedBucket(BucketAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.bucket_name = platform.require_output("artifact_bucket")


class _SharedRepository(RepositoryAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.label = "step-images"
        self.repository_name = platform.require_output("step_image_repository")


class Platform:
    """The platform stack as a pipeline stack sees it: the key, bucket and image repository,
    read through a StackReference (never created again here)."""

    def __init__(
        self, stack: str, *, place: Place, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.reference = pulumi.StackReference("platform", stack_name=stack, opts=opts)
        self.key: KeyAccess = _SharedKey(self.reference, place)
        self.bucket: BucketAccess = _SharedBucket(self.reference)
        self.images: RepositoryAccess = _SharedRepository(self.reference)
        self.alerts: AlertAccess = _SharedAlerts(self.reference)
