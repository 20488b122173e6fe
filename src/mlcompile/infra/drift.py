"""Drift monitoring and drift-triggered retraining, as Pulumi components of the pipeline stack.

One ``Monitor`` declaration becomes each platform's own mechanism:

- SageMaker: a data-quality job definition and an hourly or daily monitoring schedule over the
  endpoint's captured requests, run by the built-in Model Monitor analyzer against the baseline
  ``statistics.json``/``constraints.json`` under ``monitoring/<endpoint>/baseline/``; violations
  are published as CloudWatch metrics (``feature_baseline_drift_<feature>``), one alarm takes
  their maximum against the KS threshold and notifies the alert topic, and an EventBridge rule on
  that alarm starts the pipeline with the declared parameters, through a role that may only start
  that pipeline.
- Vertex AI: pulumi-gcp has no ModelDeploymentMonitoringJob resource (the endpoint's
  ``model_deployment_monitoring_job`` is output only), and the job needs the deployed model's id,
  which exists only after the pipeline deploys it. So the stack owns everything around the job:
  an alert policy on the job's anomaly log entries that notifies the stack's channel and a drift
  topic, and an Eventarc trigger on that topic running a Workflow that creates the pipeline job
  (``pipelineJobs.create``, the request the scheduler uses) with the declared parameters. The
  job's request is built here (:func:`vertex_monitoring_job`) and exported for the deploy step.
- Kubeflow: a CronJob in the pipeline's namespace runs ``mlcompile.monitor.job`` (standard
  library only, mounted from a ConfigMap, so any ``python3`` image runs it) over the
  InferenceService's logged requests and creates a run through the KFP API on drift, as a service
  account allowed only to create runs in that namespace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pulumi

from .model_monitor import MODEL_MONITOR_ACCOUNTS, model_monitor_image

#: Where Model Monitor publishes data-quality metrics of an endpoint's schedule.
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


class Drift(TypedDict):
    """What the compiled declaration says, as the components need it."""

    endpoint: str
    features: list[str]
    #: Numbers' statistic thresholds by name (psi, ks, chi2, missing).
    thresholds: dict[str, float]
    cron: str
    #: Parameters of the retraining run, or None to alert only.
    retrain: dict[str, Any] | None


def _analyzer_repository(region: str) -> str:
    account = MODEL_MONITOR_ACCOUNTS[region]
    return f"arn:aws:ecr:{region}:{account}:repository/sagemaker-model-monitor-analyzer"


def monitoring_cron(cron: str) -> str:
    """SageMaker's ``cron(...)`` for a monitoring schedule, which runs hourly or daily only
    (``0 * * * *``, ``0 */N * * *``, ``0 H * * *``)."""
    minute, hour, day, month, weekday = cron.split()
    hourly = hour == "*" or (hour.startswith("*/") and hour[2:].isdigit())
    if minute != "0" or (day, month, weekday) != ("*", "*", "*") or not (hourly or hour.isdigit()):
        raise ValueError(
            f"cron {cron!r}: SageMaker monitoring schedules run hourly or daily, on the hour"
        )
    return f"cron(0 {hour} ? * * *)"


def _as_parameter(value: Any) -> str:
    """A pipeline parameter value as the services take it: a string (JSON for lists, dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


# ----- SageMaker --------------------------------------------------------------------------------


class SageMakerDriftMonitor(pulumi.ComponentResource):
    """Model Monitor data quality on an endpoint, a drift alarm, and the retraining trigger."""

    schedule: Any
    alarm: Any
    rule: Any | None

    def __init__(
        self,
        resource_name: str,
        *,
        drift: Drift,
        names: Mapping[str, str],
        place: Any,
        store: Any,
        pipeline: Any,
        alerts: Any,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``names`` holds the physical names: ``job``, ``schedule``, ``role``, ``alarm``,
        ``rule`` and ``trigger_role``; ``place``, ``store``, ``pipeline`` and ``alerts`` are the
        stack's ``aws.Place``, artifact store (a ``StoreAccess``: the ``ArtifactStore`` or the
        platform stack's), ``SageMakerPipeline`` and ``Alerts``."""
        import pulumi_aws as aws

        from .aws import (
            _arn,
            _log_statements,
            _metrics_statement,
            _role,
            _statement,
            _trust,
        )

        super().__init__("mlcompile:aws:SageMakerDriftMonitor", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        endpoint = drift["endpoint"]
        prefix = f"monitoring/{endpoint}/"
        bucket_uri = pulumi.Output.concat("s3://", store.bucket_id, "/")
        objects = pulumi.Output.concat(store.bucket_arn, "/")
        role = _role(
            f"{resource_name}-role",
            f"{resource_name}-policy",
            name=names["role"],
            trust=_trust("sagemaker.amazonaws.com", place["account"]),
            description=f"Runs the data-quality monitoring of endpoint {endpoint}",
            statements=[
                _statement(["s3:ListBucket", "s3:GetBucketLocation"], [store.bucket_arn]),
                _statement(
                    ["s3:GetObject"],
                    [
                        pulumi.Output.concat(objects, f"data-capture/{endpoint}/*"),
                        pulumi.Output.concat(objects, prefix, "baseline/*"),
                    ],
                ),
                _statement(["s3:PutObject"], [pulumi.Output.concat(objects, prefix, "reports/*")]),
                _statement(["kms:Decrypt", "kms:GenerateDataKey"], [store.key_arn]),
                _statement(
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    [_analyzer_repository(place["region"])],
                ),
                _statement(["ecr:GetAuthorizationToken"], ["*"]),
                _statement(
                    ["sagemaker:DescribeEndpoint"],
                    [_arn(place, "sagemaker", f"endpoint/{endpoint}")],
                ),
                _log_statements(place, "/aws/sagemaker/ProcessingJobs"),
                _metrics_statement(),
            ],
            tags=tags,
            opts=child,
        )
        job = aws.sagemaker.DataQualityJobDefinition(
            f"{resource_name}-job",
            name=names["job"],
            role_arn=role.arn,
            data_quality_app_specification={
                "image_uri": model_monitor_image(place["region"]),
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            data_quality_baseline_config={
                "constraints_resource": {
                    "s3_uri": pulumi.Output.concat(bucket_uri, prefix, "baseline/constraints.json")
                },
                "statistics_resource": {
                    "s3_uri": pulumi.Output.concat(bucket_uri, prefix, "baseline/statistics.json")
                },
            },
            data_quality_job_input={"endpoint_input": {"endpoint_name": endpoint}},
            data_quality_job_output_config={
                "kms_key_id": store.key_arn,
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": pulumi.Output.concat(bucket_uri, prefix, "reports"),
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources={
                "cluster_config": {
                    "instance_count": 1,
                    "instance_type": "ml.m5.large",
                    "volume_size_in_gb": 20,
                    "volume_kms_key_id": store.key_arn,
                }
            },
            network_config={
                "enable_network_isolation": True,
                "enable_inter_container_traffic_encryption": True,
            },
            stopping_condition={"max_runtime_in_seconds": 3600},
            tags=dict(tags),
            opts=child,
        )
        self.schedule = aws.sagemaker.MonitoringSchedule(
            f"{resource_name}-schedule",
            name=names["schedule"],
            monitoring_schedule_config={
                "monitoring_type": "DataQuality",
                "monitoring_job_definition_name": job.name,
                "schedule_config": {"schedule_expression": monitoring_cron(drift["cron"])},
            },
            tags=dict(tags),
            opts=child,
        )
        # The analyzer's distance per feature is the Kolmogorov-Smirnov distance for numbers
        # (the L-infinity distance for categories): alarm on the largest against the threshold.
        queries: list[Any] = [
            {
                "id": f"f{i}",
                "return_data": False,
                "metric": {
                    "namespace": DATA_METRICS_NAMESPACE,
                    "metric_name": f"feature_baseline_drift_{feature}",
                    "dimensions": {"Endpoint": endpoint, "MonitoringSchedule": names["schedule"]},
                    "period": 3600,
                    "stat": "Maximum",
                },
            }
            for i, feature in enumerate(drift["features"])
        ]
        ids = ",".join(q["id"] for q in queries)
        queries.append(
            {"id": "drift", "expression": f"MAX([{ids}])", "label": "drift", "return_data": True}
        )
        topic = [alerts.topic.arn]
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{resource_name}-alarm",
            name=names["alarm"],
            alarm_description=f"Endpoint {endpoint}: requests drifted from the baseline",
            metric_queries=queries,
            evaluation_periods=1,
            threshold=drift["thresholds"].get("ks", 0.1),
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=topic,
            ok_actions=topic,
            tags=dict(tags),
            opts=child,
        )
        self.rule = None
        if drift["retrain"] is not None:
            self.rule = self._retrain_rule(
                resource_name, drift["retrain"], names, place, pipeline, tags, child
            )
        self.register_outputs({"schedule": self.schedule.arn, "alarm": self.alarm.arn})

    def _retrain_rule(
        self,
        resource_name: str,
        params: Mapping[str, Any],
        names: Mapping[str, str],
        place: Any,
        pipeline: Any,
        tags: Mapping[str, str],
        child: pulumi.ResourceOptions,
    ) -> Any:
        import pulumi_aws as aws

        from .aws import _role, _statement, _trust

        role = _role(
            f"{resource_name}-trigger-role",
            f"{resource_name}-trigger-policy",
            name=names["trigger_role"],
            trust=_trust("events.amazonaws.com", place["account"]),
            description=f"Lets EventBridge start pipeline {names['rule']} on drift",
            statements=[
                _statement(["sagemaker:StartPipelineExecution"], [pipeline.pipeline.arn]),
            ],
            tags=tags,
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{resource_name}-rule",
            name=names["rule"],
            description="The drift alarm fired: retrain",
            event_pattern=self.alarm.arn.apply(
                lambda arn: json.dumps(
                    {
                        "source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "resources": [arn],
                        "detail": {"state": {"value": ["ALARM"]}},
                    },
                    sort_keys=True,
                )
            ),
            tags=dict(tags),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{resource_name}-retrain",
            rule=rule.name,
            arn=pipeline.pipeline.arn,
            role_arn=role.arn,
            sagemaker_pipeline_target={
                "pipeline_parameter_lists": [
                    {"name": k, "value": _as_parameter(v)} for k, v in sorted(params.items())
                ]
            },
            opts=child,
        )
        return rule


# ----- Vertex AI --------------------------------------------------------------------------------

#: Vertex model monitoring writes each anomaly it finds to this log (when logging is enabled).
VERTEX_ANOMALY_LOG = "aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"


def vertex_monitoring_job(
    *,
    display_name: str,
    endpoint: str,
    deployed_model_id: str,
    drift: Drift,
    kinds: Mapping[str, str],
    notification_channels: Sequence[str],
    kms_key: str,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The ``modelDeploymentMonitoringJobs.create`` request: drift detection on the declared
    features (numbers by Jensen-Shannon divergence, categories by L-infinity distance, both
    against the declared PSI threshold as the closest), every ``cron`` hour, anomalies logged
    and sent to the stack's channels."""
    hours = _interval_hours(drift["cron"])
    threshold = drift["thresholds"].get("psi", 0.2)
    return {
        "displayName": display_name,
        "endpoint": endpoint,
        "modelDeploymentMonitoringObjectiveConfigs": [
            {
                "deployedModelId": deployed_model_id,
                "objectiveConfig": {
                    "predictionDriftDetectionConfig": {
                        "driftThresholds": {
                            name: {"value": threshold} for name in sorted(drift["features"])
                        },
                    },
                },
            }
        ],
        "modelDeploymentMonitoringScheduleConfig": {"monitorInterval": f"{hours * 3600}s"},
        "loggingSamplingStrategy": {"randomSampleConfig": {"sampleRate": 1.0}},
        "modelMonitoringAlertConfig": {
            "enableLogging": True,
            "notificationChannels": list(notification_channels),
        },
        "encryptionSpec": {"kmsKeyName": kms_key},
        "labels": {**dict(labels), "mlcompile-kinds": _kinds_label(kinds)},
    }


def _kinds_label(kinds: Mapping[str, str]) -> str:
    numbers = sum(1 for k in kinds.values() if k == "number")
    return f"{numbers}n{len(kinds) - numbers}c"


def _interval_hours(cron: str) -> int:
    """Vertex monitors every N hours: hourly for ``0 * * * *``, N for ``0 */N``, 24 for daily."""
    hour = cron.split()[1]
    if hour == "*":
        return 1
    if hour.startswith("*/") and hour[2:].isdigit():
        return int(hour[2:])
    return 24


class VertexDriftMonitor(pulumi.ComponentResource):
    """An alert on the endpoint's monitoring anomalies, and the retraining trigger."""

    topic: Any | None
    workflow: Any | None
    request: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        drift: Drift,
        kinds: Mapping[str, str],
        names: Mapping[str, str],
        pipeline: str,
        place: Any,
        key: Any,
        bucket: Any,
        templates: Any,
        identity: Any,
        endpoint: Any,
        alerts: Any,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``names``: ``topic``, ``trigger_account``, ``workflow``, ``trigger``. The rest are
        the stack's ``gcp`` components: the key and bucket (``KeyAccess`` and ``BucketAccess``:
        the platform stack's or its own), the KFP Repository, PipelineServiceAccount,
        VertexEndpoint and Alerts."""
        import pulumi_gcp as gcp

        super().__init__("mlcompile:gcp:VertexDriftMonitor", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, region = place["project"], place["region"]
        channels: list[pulumi.Input[str]] = [alerts.channel.name]
        self.topic = self.workflow = None
        if drift["retrain"] is not None:
            trigger = self._trigger(
                resource_name,
                drift["retrain"],
                names,
                pipeline,
                place,
                key,
                bucket,
                templates,
                identity,
                labels,
            )
            channels.append(trigger)
        anomalies = (
            f'logName="projects/{project}/logs/{VERTEX_ANOMALY_LOG}"'
            ' AND resource.type="aiplatform.googleapis.com/ModelDeploymentMonitoringJob"'
            f' AND labels.endpoint_id="{endpoint.endpoint_id}"'
        )
        gcp.monitoring.AlertPolicy(
            f"{resource_name}-drift",
            project=project,
            display_name=f"{endpoint.name}: requests drifted from the baseline",
            combiner="OR",
            severity="WARNING",
            conditions=[
                {
                    "display_name": "Model monitoring found an anomaly",
                    "condition_matched_log": {"filter": anomalies},
                }
            ],
            alert_strategy={"notification_rate_limit": {"period": "3600s"}},
            notification_channels=channels,
            user_labels=dict(labels),
            opts=child,
        )
        endpoint_path = f"projects/{project}/locations/{region}/endpoints/{endpoint.endpoint_id}"
        self.request = pulumi.Output.all(key.key_id, alerts.channel.name).apply(
            lambda v: json.dumps(
                vertex_monitoring_job(
                    display_name=f"{endpoint.name}-drift",
                    endpoint=endpoint_path,
                    deployed_model_id="DEPLOYED_MODEL_ID",
                    drift=drift,
                    kinds=kinds,
                    notification_channels=[v[1]],
                    kms_key=v[0],
                    labels=labels,
                ),
                sort_keys=True,
            )
        )
        self.register_outputs({"monitoring_job_request": self.request})

    def _trigger(
        self,
        resource_name: str,
        params: Mapping[str, Any],
        names: Mapping[str, str],
        pipeline: str,
        place: Any,
        key: Any,
        bucket: Any,
        templates: Any,
        identity: Any,
        labels: Mapping[str, str],
    ) -> pulumi.Output[str]:
        """Drift topic -> Eventarc -> a Workflow creating the pipeline job; returns the
        notification channel that publishes to the topic."""
        import pulumi_gcp as gcp

        child = pulumi.ResourceOptions(parent=self)
        project, region = place["project"], place["region"]
        self.topic = gcp.pubsub.Topic(
            f"{resource_name}-topic",
            name=names["topic"],
            project=project,
            kms_key_name=key.key_id,
            message_retention_duration="86400s",
            labels=dict(labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=key.grants),
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
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=agent.member,
            opts=child,
        )
        channel = gcp.monitoring.NotificationChannel(
            f"{resource_name}-channel",
            project=project,
            display_name=f"Drift trigger of {pipeline}",
            type="pubsub",
            labels={"topic": self.topic.id},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[publisher]),
        )
        account = gcp.serviceaccount.Account(
            f"{resource_name}-trigger",
            account_id=names["trigger_account"],
            display_name=f"Starts {pipeline} on drift",
            project=project,
            opts=child,
        )
        for role in ("roles/aiplatform.user", "roles/eventarc.eventReceiver"):
            gcp.projects.IAMMember(
                f"{resource_name}-trigger-{role.split('/')[-1]}",
                project=project,
                role=role,
                member=account.member,
                opts=child,
            )
        # The pipeline job runs as the pipeline's own identity, not as the trigger's.
        gcp.serviceaccount.IAMMember(
            f"{resource_name}-trigger-acts-as-pipeline",
            service_account_id=identity.account.name,
            role="roles/iam.serviceAccountUser",
            member=account.member,
            opts=child,
        )
        body = pulumi.Output.all(
            templates.repository.repository_id,
            bucket.bucket_name,
            key.key_id,
            identity.account.email,
        ).apply(
            lambda v: {
                "displayName": pipeline,
                "templateUri": f"https://{region}-kfp.pkg.dev/{project}/{v[0]}/{pipeline}/latest",
                "runtimeConfig": {
                    "gcsOutputDirectory": f"gs://{v[1]}/runs",
                    "parameterValues": dict(sorted(params.items())),
                },
                "encryptionSpec": {"kmsKeyName": v[2]},
                "serviceAccount": v[3],
                "labels": {**dict(labels), "mlcompile-trigger": "drift"},
            }
        )
        url = f"https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/pipelineJobs"
        self.workflow = gcp.workflows.Workflow(
            f"{resource_name}-workflow",
            name=names["workflow"],
            project=project,
            region=region,
            description=f"Creates a run of {pipeline} when its endpoint drifts",
            service_account=account.id,
            source_contents=body.apply(lambda b: _workflow_source(url, b)),
            labels=dict(labels),
            opts=child,
        )
        gcp.projects.IAMMember(
            f"{resource_name}-trigger-invoker",
            project=project,
            role="roles/workflows.invoker",
            member=account.member,
            opts=child,
        )
        gcp.eventarc.Trigger(
            f"{resource_name}-eventarc",
            name=names["trigger"],
            project=project,
            location=region,
            matching_criterias=[
                {"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}
            ],
            transport={"pubsub": {"topic": self.topic.id}},
            destination={"workflow": self.workflow.id},
            service_account=account.email,
            labels=dict(labels),
            opts=child,
        )
        return channel.name


def _workflow_source(url: str, body: Mapping[str, Any]) -> str:
    """A Workflows program (JSON is valid YAML) that POSTs ``body`` with its own OAuth token."""
    program = {
        "main": {
            "params": ["event"],
            "steps": [
                {
                    "create": {
                        "call": "http.post",
                        "args": {"url": url, "auth": {"type": "OAuth2"}, "body": dict(body)},
                        "result": "created",
                    }
                },
                {"done": {"return": "${created.body.name}"}},
            ],
        }
    }
    return json.dumps(program, sort_keys=True, indent=2)


# ----- Kubeflow ---------------------------------------------------------------------------------

#: The monitoring code the CronJob runs, mounted from the ConfigMap as a package.
_JOB_FILES = {
    "init": ("mlcompile/__init__.py", ""),
    "monitor-init": ("mlcompile/monitor/__init__.py", ""),
    "stats": ("mlcompile/monitor/stats.py", "stats.py"),
    "compare": ("mlcompile/monitor/compare.py", "compare.py"),
    "job": ("mlcompile/monitor/job.py", "job.py"),
}
_MOUNT = "/opt/mlcompile"
_TOKEN = "/var/run/secrets/kubeflow/pipelines/token"


def job_files() -> dict[str, str]:
    """ConfigMap keys to file contents: the standard-library monitoring code."""
    here = Path(__file__).resolve().parents[1] / "monitor"
    return {
        key: (here / source).read_text(encoding="utf-8") if source else ""
        for key, (_path, source) in _JOB_FILES.items()
    }


class Kfp(TypedDict):
    """Where the KFP API is and which pipeline a drift run starts."""

    url: str
    pipeline_id: str


class KubeflowDriftMonitor(pulumi.ComponentResource):
    """A CronJob that checks the InferenceService's logged requests and starts a KFP run."""

    config_map: Any
    cron_job: Any

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        namespace: str,
        spec: Mapping[str, Any],
        cron: str,
        requests_url: str,
        baseline_url: str,
        kfp: Kfp,
        image: str,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``namespace`` names the environment's shared namespace (the platform stack owns it;
        see ``kubernetes.Namespace``); ``spec`` the declaration as
        ``MonitoredEndpoint.spec()`` gives it; ``image`` any image with ``python3``."""
        import pulumi_kubernetes as k8s

        super().__init__("mlcompile:kubernetes:KubeflowDriftMonitor", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace
        meta_labels = {**dict(labels), "app.kubernetes.io/component": "drift-monitor"}
        account = k8s.core.v1.ServiceAccount(
            f"{resource_name}-account",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            automount_service_account_token=False,
            opts=child,
        )
        # KFP authorises run creation by a SubjectAccessReview on pipelines.kubeflow.org.
        role = k8s.rbac.v1.Role(
            f"{resource_name}-role",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            rules=[
                {
                    "api_groups": ["pipelines.kubeflow.org"],
                    "resources": ["runs"],
                    "verbs": ["create", "get"],
                }
            ],
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{resource_name}-binding",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            subjects=[{"kind": "ServiceAccount", "name": name, "namespace": ns}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, account]),
        )
        config = {
            "spec": dict(spec),
            "requests_url": requests_url,
            "baseline_url": baseline_url,
            "kfp": {**dict(kfp), "token_file": _TOKEN},
        }
        self.config_map = k8s.core.v1.ConfigMap(
            f"{resource_name}-code",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            data={**job_files(), "config": json.dumps(config, sort_keys=True, indent=2)},
            immutable=False,
            opts=child,
        )
        items: list[Any] = [{"key": k, "path": path} for k, (path, _src) in _JOB_FILES.items()]
        items.append({"key": "config", "path": "config.json"})
        requests = {"cpu": "250m", "memory": "256Mi"}
        self.cron_job = k8s.batch.v1.CronJob(
            resource_name,
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            spec={
                "schedule": cron,
                "time_zone": "Etc/UTC",
                "concurrency_policy": "Forbid",
                "successful_jobs_history_limit": 3,
                "failed_jobs_history_limit": 3,
                "job_template": {
                    "spec": {
                        "backoff_limit": 0,
                        "active_deadline_seconds": 1800,
                        "template": {
                            "metadata": {"labels": meta_labels},
                            "spec": {
                                "service_account_name": name,
                                "automount_service_account_token": False,
                                "restart_policy": "Never",
                                "security_context": {
                                    "run_as_non_root": True,
                                    "run_as_user": 65532,
                                    "seccomp_profile": {"type": "RuntimeDefault"},
                                },
                                "containers": [
                                    {
                                        "name": "monitor",
                                        "image": image,
                                        "command": [
                                            "python3",
                                            "-m",
                                            "mlcompile.monitor.job",
                                            f"{_MOUNT}/config.json",
                                        ],
                                        "env": [
                                            {"name": "PYTHONPATH", "value": _MOUNT},
                                            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                                        ],
                                        "resources": {"requests": requests, "limits": requests},
                                        "security_context": {
                                            "allow_privilege_escalation": False,
                                            "read_only_root_filesystem": True,
                                            "capabilities": {"drop": ["ALL"]},
                                        },
                                        "volume_mounts": [
                                            {
                                                "name": "code",
                                                "mount_path": _MOUNT,
                                                "read_only": True,
                                            },
                                            {
                                                "name": "kfp-token",
                                                "mount_path": str(Path(_TOKEN).parent),
                                                "read_only": True,
                                            },
                                        ],
                                    }
                                ],
                                "volumes": [
                                    {
                                        "name": "code",
                                        "config_map": {"name": name, "items": items},
                                    },
                                    {
                                        "name": "kfp-token",
                                        "projected": {
                                            "sources": [
                                                {
                                                    "service_account_token": {
                                                        "path": Path(_TOKEN).name,
                                                        "audience": "pipelines.kubeflow.org",
                                                        "expiration_seconds": 3600,
                                                    }
                                                }
                                            ]
                                        },
                                    },
                                ],
                            },
                        },
                    }
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.config_map]),
        )
        self.register_outputs({"cron_job": self.cron_job.metadata.name})
