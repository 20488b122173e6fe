"""Drift monitoring and drift-triggered retraining, as Pulumi components of the pipeline stack.

One ``Monitor`` declaration becomes each platform's own mechanism:

- SageMaker: a data-quality job definition and an hourly or daily monitoring schedule over the
  endpoint's captured requests, run by the built-in Model Monitor analyzer against the baseline
  ``statistics.json``/``constraints.json`` under ``monitoring/<endpoint>/baseline/``; violations
  are published as CloudWatch metrics (``feature_baseline_drift_<feature>``), one alarm takes
  their maximum against the KS threshold and notifies the alert topic, and an EventBridge rule on
  that alarm starts the pipeline with the declared parameters, through a role that may only start
  that pipeline.
- Vertex AI: the endpoint logs its requests to a BigQuery dataset under the CMEK key; a Cloud
  Run job, started by Cloud Scheduler on the monitor's schedule, runs ``mlcompile.monitor.job``
  (standard library only, mounted with its config and the baseline from the artifact bucket)
  over the window's rows with the declared statistics and thresholds; on drift it publishes to
  the stack's alert topic and, to retrain, to a drift topic whose Eventarc trigger runs a
  Workflow creating the pipeline job (``pipelineJobs.create``, the request the schedule sends)
  with the declared parameters. Why not Vertex's own model monitoring: see below.
- Kubeflow: KServe's request logger posts each request of the InferenceService to a small sink
  in the namespace (``mlcompile.monitor.sink``, which also keeps the baseline the pipeline
  publishes); a CronJob runs ``mlcompile.monitor.job`` over the window's requests and creates a
  run through the KFP API on drift, as a service account that may only find the pipeline and
  create runs in that namespace. Both mount the standard-library code from a ConfigMap, so any
  ``python3`` image runs them.
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
        platform stack's), ``SageMakerPipeline`` and the alert channel (an ``AlertAccess``)."""
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
            account=place["account"],
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
        topic = [alerts.topic_arn]
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
            account=place["account"],
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


# ----- the monitoring job's code, as the stacks ship it ----------------------------------------

#: The standard-library monitoring code the Vertex and Kubeflow jobs run, by key, with its path
#: under the job's ``PYTHONPATH`` and its source file (``""``: an empty package marker).
_JOB_FILES = {
    "init": ("mlcompile/__init__.py", ""),
    "monitor-init": ("mlcompile/monitor/__init__.py", ""),
    "stats": ("mlcompile/monitor/stats.py", "stats.py"),
    "compare": ("mlcompile/monitor/compare.py", "compare.py"),
    "job": ("mlcompile/monitor/job.py", "job.py"),
    "sink": ("mlcompile/monitor/sink.py", "sink.py"),
}
#: Where a generated project carries those files (``mlcompile_infra/monitor_job/``); in the
#: mlcompile source tree they are read from ``mlcompile/monitor/`` itself.
JOB_FOLDER = "monitor_job"


def job_files() -> dict[str, str]:
    """Keys to file contents: the standard-library monitoring code."""
    here = Path(__file__).resolve().parent
    source = here / JOB_FOLDER
    if not source.is_dir():
        source = here.parent / "monitor"
    return {
        key: (source / name).read_text(encoding="utf-8") if name else ""
        for key, (_path, name) in _JOB_FILES.items()
    }


# ----- Vertex AI --------------------------------------------------------------------------------
#
# pulumi-gcp has no model-monitoring resource (``vertex.AiEndpoint`` reports its
# ``model_deployment_monitoring_job`` as an output only), and Vertex's own model monitoring
# could not honour the declaration anyway: it measures Jensen-Shannon divergence and L-infinity
# distance (not PSI or Kolmogorov-Smirnov), needs the deployed model's id, which exists only
# after the pipeline deploys, and compares with the training data only as "skew". So the stack
# runs mlcompile's own statistics: the endpoint logs every request to a BigQuery table
# (``predictRequestResponseLoggingConfig``), a Cloud Run job runs ``mlcompile.monitor.job`` over
# the window's rows on the monitor's schedule (Cloud Scheduler calling the Cloud Run Admin API's
# ``jobs.run``, as Cloud Run documents for scheduled jobs), and on drift it publishes to the
# stack's alert topic and, to retrain, to a drift topic whose Eventarc trigger runs a Workflow
# that creates the pipeline job: the same request the pipeline's schedule sends.

#: The table Vertex creates in the log dataset when given only ``bq://PROJECT.DATASET``.
VERTEX_LOG_TABLE = "request_response_logging"
#: Where the job's code and its data (the baseline) are mounted in the Cloud Run job.
_CODE_MOUNT, _DATA_MOUNT = "/opt/mlcompile", "/mnt/monitoring"


class VertexRequestLog(pulumi.ComponentResource):
    """The BigQuery dataset (CMEK) an endpoint logs its requests to; Vertex creates the table."""

    dataset: Any
    table: pulumi.Output[str]
    uri: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        endpoint: str,
        place: Any,
        key: Any,
        keep: bool,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``name`` is the dataset id; ``key`` the stack's ``KeyAccess``."""
        import pulumi_gcp as gcp

        super().__init__("mlcompile:gcp:VertexRequestLog", resource_name, None, opts)
        project = place["project"]
        self.dataset = gcp.bigquery.Dataset(
            resource_name,
            dataset_id=name,
            project=project,
            location=place["region"],
            description=f"Requests endpoint {endpoint} served, for its drift monitor",
            default_encryption_configuration={"kms_key_name": key.key_id},
            delete_contents_on_destroy=False,
            labels=dict(labels),
            opts=pulumi.ResourceOptions(
                parent=self, protect=keep, retain_on_delete=keep, depends_on=key.grants
            ),
        )
        agent = gcp.projects.ServiceIdentity(
            f"{resource_name}-vertex-agent",
            project=project,
            service="aiplatform.googleapis.com",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Vertex writes the log as its service agent: editor of this dataset only.
        gcp.bigquery.DatasetIamMember(
            f"{resource_name}-vertex-writes",
            project=project,
            dataset_id=self.dataset.dataset_id,
            role="roles/bigquery.dataEditor",
            member=agent.member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.table = pulumi.Output.concat(
            project, ".", self.dataset.dataset_id, ".", VERTEX_LOG_TABLE
        )
        self.uri = pulumi.Output.concat("bq://", self.table)
        self.register_outputs({"table": self.table})


def _prefix_condition(bucket: str, prefixes: Sequence[str]) -> Any:
    """Objects under ``prefixes`` only, listing included (list calls carry the prefix as the
    ``objectListPrefix`` attribute, since their resource is the bucket)."""
    reads = [
        f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{p}")' for p in prefixes
    ]
    lists = [
        f'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{p}")'
        for p in prefixes
    ]
    return {
        "title": "monitoring-objects",
        "description": "The monitoring job's code and baseline only",
        "expression": " || ".join(reads + lists),
    }


class VertexDriftMonitor(pulumi.ComponentResource):
    """The monitoring job over an endpoint's request log, its schedule, and the retraining
    trigger."""

    job: Any
    schedule: Any
    topic: Any | None
    workflow: Any | None

    def __init__(
        self,
        resource_name: str,
        *,
        drift: Drift,
        spec: Mapping[str, Any],
        window_hours: int,
        names: Mapping[str, str],
        pipeline: str,
        place: Any,
        key: Any,
        bucket: Any,
        templates: Any,
        identity: Any,
        log: VertexRequestLog,
        alerts: Any,
        image: str,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``names``: ``job``, ``schedule``, ``role`` (the monitor's service account id),
        ``topic``, ``trigger_account``, ``workflow``, ``trigger``. ``spec`` is the declaration
        (``MonitoredEndpoint.spec()``), ``window_hours`` how much of the log one check reads,
        ``image`` any image with ``python3``. The rest are the stack's ``gcp`` components: the
        key and bucket (``KeyAccess``, ``BucketAccess``), the KFP Repository, the
        PipelineServiceAccount, the endpoint's VertexRequestLog and the alert channel."""
        import pulumi_gcp as gcp

        from .gcp import CODE_PREFIX

        super().__init__("mlcompile:gcp:VertexDriftMonitor", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, region = place["project"], place["region"]
        endpoint = drift["endpoint"]
        data_prefix = f"monitoring/{endpoint}/"
        code_prefix = f"{CODE_PREFIX}monitoring/{endpoint}/"
        account = gcp.serviceaccount.Account(
            f"{resource_name}-account",
            account_id=names["role"],
            display_name=f"Drift monitor of endpoint {endpoint}",
            project=project,
            opts=child,
        )
        # Query jobs can only be granted on the project; the rows are read from this log only.
        gcp.projects.IAMMember(
            f"{resource_name}-bigquery-jobs",
            project=project,
            role="roles/bigquery.jobUser",
            member=account.member,
            opts=child,
        )
        gcp.bigquery.DatasetIamMember(
            f"{resource_name}-reads-log",
            project=project,
            dataset_id=log.dataset.dataset_id,
            role="roles/bigquery.dataViewer",
            member=account.member,
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{resource_name}-reads-objects",
            bucket=bucket.bucket_name,
            role="roles/storage.objectViewer",
            member=account.member,
            condition=pulumi.Output.from_input(bucket.bucket_name).apply(
                lambda b: _prefix_condition(b, [code_prefix, data_prefix])
            ),
            opts=child,
        )
        alert_topic = pulumi.Output.concat("projects/", project, "/topics/", alerts.topic_name)
        gcp.pubsub.TopicIAMMember(
            f"{resource_name}-publishes-alerts",
            project=project,
            topic=alerts.topic_name,
            role="roles/pubsub.publisher",
            member=account.member,
            opts=child,
        )
        self.topic = self.workflow = None
        retrain_topic: pulumi.Output[str] | None = None
        if drift["retrain"] is not None:
            retrain_topic = self._trigger(
                resource_name,
                drift["retrain"],
                names,
                pipeline,
                place,
                key,
                bucket,
                templates,
                identity,
                account,
                labels,
            )
        config = pulumi.Output.all(log.table, alert_topic, retrain_topic).apply(
            lambda v: json.dumps(
                {
                    "spec": dict(spec),
                    "baseline_url": f"{_DATA_MOUNT}/baseline.csv",
                    "bigquery": {"table": v[0], "hours": window_hours},
                    "pubsub": {"alert_topic": v[1], "retrain_topic": v[2]},
                },
                sort_keys=True,
                indent=2,
            )
        )
        # The code under code/, which only the deployer writes; the sink module is Kubeflow's.
        sources = job_files()
        objects: list[pulumi.Resource] = [
            gcp.storage.BucketObject(
                f"{resource_name}-code-{file}",
                bucket=bucket.bucket_name,
                name=f"{code_prefix}{path}",
                content=sources[file] or "\n",
                content_type="text/x-python",
                opts=child,
            )
            for file, (path, _name) in _JOB_FILES.items()
            if file != "sink"
        ]
        objects.append(
            gcp.storage.BucketObject(
                f"{resource_name}-config",
                bucket=bucket.bucket_name,
                name=f"{code_prefix}config.json",
                content=config,
                content_type="application/json",
                opts=child,
            )
        )
        limits: Any = {"cpu": "1", "memory": "512Mi"}
        self.job = gcp.cloudrunv2.Job(
            f"{resource_name}-job",
            name=names["job"],
            project=project,
            location=region,
            deletion_protection=False,
            labels=dict(labels),
            template={
                "task_count": 1,
                "labels": dict(labels),
                "template": {
                    "service_account": account.email,
                    "max_retries": 0,
                    "timeout": "1800s",
                    # Cloud Storage volumes need the second-generation environment.
                    "execution_environment": "EXECUTION_ENVIRONMENT_GEN2",
                    "containers": [
                        {
                            "image": image,
                            "commands": ["python3"],
                            "args": ["-m", "mlcompile.monitor.job", f"{_CODE_MOUNT}/config.json"],
                            "envs": [
                                {"name": "PYTHONPATH", "value": _CODE_MOUNT},
                                {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                            ],
                            "resources": {"limits": limits},
                            "volume_mounts": [
                                {"name": "code", "mount_path": _CODE_MOUNT},
                                {"name": "data", "mount_path": _DATA_MOUNT},
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": name,
                            "gcs": {
                                "bucket": bucket.bucket_name,
                                "read_only": True,
                                "mount_options": [f"only-dir={prefix.rstrip('/')}"],
                            },
                        }
                        for name, prefix in (("code", code_prefix), ("data", data_prefix))
                    ],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=objects),
        )
        # The schedule runs the job as the monitor's account, which may run this job only.
        invoker = gcp.cloudrunv2.JobIamMember(
            f"{resource_name}-runs-job",
            project=project,
            location=region,
            name=self.job.name,
            role="roles/run.invoker",
            member=account.member,
            opts=child,
        )
        self.schedule = gcp.cloudscheduler.Job(
            f"{resource_name}-schedule",
            name=names["schedule"],
            project=project,
            region=region,
            description=f"Checks endpoint {endpoint} for drift",
            schedule=drift["cron"],
            time_zone="Etc/UTC",
            attempt_deadline="320s",
            http_target={
                "uri": pulumi.Output.concat(
                    f"https://run.googleapis.com/v2/projects/{project}/locations/{region}/jobs/",
                    self.job.name,
                    ":run",
                ),
                "http_method": "POST",
                "oauth_token": {
                    "service_account_email": account.email,
                    "scope": "https://www.googleapis.com/auth/cloud-platform",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[invoker]),
        )
        # A check that could not run or act logs an error: the stack's channel hears of it.
        failures = (
            'resource.type="cloud_run_job" AND severity>=ERROR'
            f' AND resource.labels.job_name="{names["job"]}"'
        )
        gcp.monitoring.AlertPolicy(
            f"{resource_name}-failed",
            project=project,
            display_name=f"{endpoint}: the drift check failed",
            combiner="OR",
            severity="ERROR",
            conditions=[
                {
                    "display_name": "Drift check logged an error",
                    "condition_matched_log": {"filter": failures},
                }
            ],
            alert_strategy={"notification_rate_limit": {"period": "3600s"}},
            notification_channels=alerts.channel_names,
            user_labels=dict(labels),
            opts=child,
        )
        self.register_outputs({"job": self.job.name, "schedule": self.schedule.name})

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
        monitor: Any,
        labels: Mapping[str, str],
    ) -> pulumi.Output[str]:
        """Drift topic -> Eventarc -> a Workflow creating the pipeline job; returns the topic's
        full name, which the monitor's account may publish to."""
        import pulumi_gcp as gcp

        from .gcp import pipeline_job_request, pipeline_jobs_url

        child = pulumi.ResourceOptions(parent=self)
        project, region = place["project"], place["region"]
        self.topic = gcp.pubsub.Topic(
            f"{resource_name}-topic",
            name=names["topic"],
            project=project,
            kms_key_name=key.key_id,
            message_retention_duration="86400s",
            labels=dict(labels),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=key.grants, delete_before_replace=True
            ),
        )
        gcp.pubsub.TopicIAMMember(
            f"{resource_name}-monitor-publishes",
            project=project,
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=monitor.member,
            opts=child,
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
        body = pipeline_job_request(
            pipeline=pipeline,
            place=place,
            templates=templates,
            bucket=bucket,
            key=key,
            identity=identity,
            labels={**dict(labels), "mlcompile-trigger": "drift"},
            parameters=params,
        )
        url = pipeline_jobs_url(place)
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
        # pulumi-gcp has no IAM resource on one workflow: invoker on the project.
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
        return pulumi.Output.concat("projects/", project, "/topics/", self.topic.name)


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

_MOUNT = "/opt/mlcompile"
_TOKEN = "/var/run/secrets/kubeflow/pipelines/token"


#: Shared parts of the pod specs, typed Any: a provider input's TypedDict union is checked
#: against each literal where it is used.
class Kfp(TypedDict):
    """Where the KFP API is, and the pipeline (by name) a drift run starts, in which experiment
    and as which service account."""

    url: str
    namespace: str
    pipeline: str
    experiment: str
    service_account: str


class KubeflowDriftMonitor(pulumi.ComponentResource):
    """The request sink KServe's logger posts to, and a CronJob that checks what it logged and
    starts a KFP run."""

    config_map: Any
    sink: Any
    cron_job: Any

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        sink: str,
        namespace: str,
        spec: Mapping[str, Any],
        cron: str,
        window_hours: int,
        kfp: Kfp,
        image: str,
        labels: Mapping[str, str],
        keep: bool = False,
        storage: str = "1Gi",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``namespace`` names the environment's shared namespace (the platform stack owns it;
        see ``kubernetes.Namespace``); ``sink`` the sink's Deployment and Service (the
        InferenceService's logger URL is ``http://SINK.NAMESPACE.svc.cluster.local``); ``spec``
        the declaration as ``MonitoredEndpoint.spec()`` gives it; ``image`` any image with
        ``python3``; ``storage`` the size of the sink's volume, protected and retained with
        ``keep`` (production)."""
        import pulumi_kubernetes as k8s

        from .kubernetes import POD_SECURITY, RESTRICTED

        super().__init__("mlcompile:kubernetes:KubeflowDriftMonitor", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace
        meta_labels = {**dict(labels), "app.kubernetes.io/component": "drift-monitor"}
        sink_labels = {**dict(labels), "app.kubernetes.io/component": "request-sink"}
        sink_selector = {"app.kubernetes.io/name": sink}
        items: list[Any] = [{"key": k, "path": path} for k, (path, _src) in _JOB_FILES.items()]
        sink_url = f"http://{sink}.{ns}.svc.cluster.local"
        config = {
            "spec": dict(spec),
            "requests_url": f"{sink_url}/requests?hours={window_hours}",
            "baseline_url": f"{sink_url}/baseline",
            "kfp": {**dict(kfp), "token_file": _TOKEN},
        }
        self.config_map = k8s.core.v1.ConfigMap(
            f"{resource_name}-code",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            data={**job_files(), "config": json.dumps(config, sort_keys=True, indent=2)},
            opts=child,
        )
        code_volume: Any = {"name": "code", "config_map": {"name": name, "items": items}}
        code_mount: Any = {"name": "code", "mount_path": _MOUNT, "read_only": True}
        python_env: Any = [
            {"name": "PYTHONPATH", "value": _MOUNT},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ]
        requests: Any = {"cpu": "250m", "memory": "256Mi"}

        # The sink: its own account, no API access, reachable from this namespace only.
        k8s.core.v1.ServiceAccount(
            f"{resource_name}-sink-account",
            metadata={"name": sink, "namespace": ns, "labels": sink_labels},
            automount_service_account_token=False,
            opts=child,
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{resource_name}-sink-data",
            metadata={"name": sink, "namespace": ns, "labels": sink_labels},
            spec={
                "access_modes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": storage}},
            },
            opts=pulumi.ResourceOptions(parent=self, protect=keep, retain_on_delete=keep),
        )
        self.sink = k8s.apps.v1.Deployment(
            f"{resource_name}-sink",
            metadata={"name": sink, "namespace": ns, "labels": sink_labels},
            spec={
                "replicas": 1,
                # One writer of the volume: the old pod stops before the new one starts.
                "strategy": {"type": "Recreate"},
                "selector": {"match_labels": sink_selector},
                "template": {
                    "metadata": {"labels": {**sink_labels, **sink_selector}},
                    "spec": {
                        "service_account_name": sink,
                        "automount_service_account_token": False,
                        "security_context": POD_SECURITY,
                        "containers": [
                            {
                                "name": "sink",
                                "image": image,
                                "command": ["python3", "-m", "mlcompile.monitor.sink"],
                                "args": ["--dir", "/data", "--port", "8080"],
                                "env": python_env,
                                "ports": [{"name": "http", "container_port": 8080}],
                                "readiness_probe": {
                                    "http_get": {"path": "/healthz", "port": "http"}
                                },
                                "liveness_probe": {
                                    "http_get": {"path": "/healthz", "port": "http"},
                                    "period_seconds": 30,
                                },
                                "resources": {"requests": requests, "limits": requests},
                                "security_context": RESTRICTED,
                                "volume_mounts": [
                                    code_mount,
                                    {"name": "data", "mount_path": "/data"},
                                ],
                            }
                        ],
                        "volumes": [
                            code_volume,
                            {
                                "name": "data",
                                "persistent_volume_claim": {"claim_name": sink},
                            },
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.config_map, claim]),
        )
        k8s.core.v1.Service(
            f"{resource_name}-sink-service",
            metadata={"name": sink, "namespace": ns, "labels": sink_labels},
            spec={
                "type": "ClusterIP",
                "selector": sink_selector,
                "ports": [{"name": "http", "port": 80, "target_port": "http"}],
            },
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-sink-ingress",
            metadata={"name": sink, "namespace": ns, "labels": sink_labels},
            spec={
                "pod_selector": {"match_labels": sink_selector},
                "policy_types": ["Ingress"],
                "ingress": [
                    {
                        "from_": [
                            {
                                "namespace_selector": {
                                    "match_labels": {"kubernetes.io/metadata.name": ns}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": 8080}],
                    }
                ],
            },
            opts=child,
        )

        # The check: an account that may only find the pipeline and create runs in KFP.
        account = k8s.core.v1.ServiceAccount(
            f"{resource_name}-account",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            automount_service_account_token=False,
            opts=child,
        )
        # KFP authorises each call by a SubjectAccessReview on pipelines.kubeflow.org.
        role = k8s.rbac.v1.Role(
            f"{resource_name}-role",
            metadata={"name": name, "namespace": ns, "labels": meta_labels},
            rules=[
                {
                    "api_groups": ["pipelines.kubeflow.org"],
                    "resources": ["runs"],
                    "verbs": ["create", "get"],
                },
                {
                    "api_groups": ["pipelines.kubeflow.org"],
                    "resources": ["pipelines", "experiments"],
                    "verbs": ["get", "list"],
                },
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
                                "security_context": POD_SECURITY,
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
                                        "env": python_env,
                                        "resources": {"requests": requests, "limits": requests},
                                        "security_context": RESTRICTED,
                                        "volume_mounts": [
                                            code_mount,
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
                                        "config_map": {
                                            "name": name,
                                            "items": [
                                                *items,
                                                {"key": "config", "path": "config.json"},
                                            ],
                                        },
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
        self.register_outputs({"cron_job": self.cron_job.metadata.name, "sink": sink_url})
