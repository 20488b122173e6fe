"""Alerts reach people: the addresses a profile lists under ``alerts.emails`` are subscribed to
the platform stack's alert channel on every cloud, every alert the pipeline stack raises
notifies them through that channel, and adding an address leaves the others' resources alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.profiles import AlertSettings, Profile
from tests.conftest import build_example, profile
from tests.infra.harness import Stack, build_stack

ONCALL = ("ml-oncall@example.com", "Data.Team@example.org")


def _with_emails(name: str, emails: tuple[str, ...]) -> Profile:
    return profile(name).model_copy(update={"alerts": AlertSettings(emails=list(emails))})


def _stack(name: str, folder: Path, emails: tuple[str, ...] = ONCALL) -> Stack:
    return build_stack(build_example("churn"), _with_emails(name, emails), folder)


def test_sns_mails_each_address_from_the_alert_topic(tmp_path: Path) -> None:
    stack = _stack("sagemaker-dev", tmp_path)
    assert stack.platform is not None
    subscriptions = stack.platform.of_type("aws:sns/topicSubscription:TopicSubscription")
    topic = stack.platform.exports["alert_topic_arn"]
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(ONCALL)
    assert {(s.inputs["protocol"], s.inputs["topic"]) for s in subscriptions} == {("email", topic)}
    # The pipeline stack's alarms and rules publish to that topic, and subscribe nobody.
    assert stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    for alarm in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic]
    assert not stack.of_type("aws:sns/topicSubscription:TopicSubscription")


def test_cloud_monitoring_notifies_the_topic_and_every_address(tmp_path: Path) -> None:
    stack = _stack("vertex-dev", tmp_path)
    assert stack.platform is not None
    channels = stack.platform.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    mailed = sorted(
        c.inputs["labels"]["email_address"] for c in channels if c.inputs["type"] == "email"
    )
    assert mailed == sorted(ONCALL)
    exported = stack.platform.exports["alert_channels"]
    assert len(exported) == len(channels) == 1 + len(ONCALL)
    policies = stack.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    assert policies, "the churn stack raises alerts on failed runs, endpoint errors and drift"
    assert all(p.inputs["notificationChannels"] == exported for p in policies)


def test_an_azure_action_group_mails_every_address_on_service_health(tmp_path: Path) -> None:
    stack = _stack("kubeflow-azure", tmp_path)
    assert stack.platform is not None
    (group,) = stack.platform.of_type("azure-native:monitor:ActionGroup")
    assert group.inputs["location"] == "Global" and group.inputs["enabled"] is True
    assert len(group.inputs["groupShortName"]) <= 12
    receivers = group.inputs["emailReceivers"]
    assert sorted(r["emailAddress"] for r in receivers) == sorted(ONCALL)
    assert len({r["name"] for r in receivers}) == len(receivers)
    assert all(r["useCommonAlertSchema"] is True for r in receivers)
    (health,) = stack.platform.of_type("azure-native:monitor:ActivityLogAlert")
    assert health.inputs["scopes"] == [f"/subscriptions/{stack.info['account']}"]
    assert health.inputs["condition"] == {
        "allOf": [{"field": "category", "equals": "ServiceHealth"}]
    }
    exported = stack.platform.exports["alert_action_group_id"]
    assert health.inputs["actions"] == {"actionGroups": [{"actionGroupId": exported}]}


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("sagemaker-dev", "aws:sns/topicSubscription:TopicSubscription"),
        ("vertex-dev", "gcp:monitoring/notificationChannel:NotificationChannel"),
    ],
)
def test_adding_an_address_keeps_the_others_resources(
    tmp_path: Path, name: str, token: str
) -> None:
    """Each address's resource is named after the address, not its place in the list: adding
    one in front creates one resource and replaces none (an SNS subscription pending
    confirmation cannot even be deleted)."""

    def names(emails: tuple[str, ...], folder: Path) -> set[str]:
        stack = _stack(name, folder, emails)
        assert stack.platform is not None
        return {r.name for r in stack.platform.of_type(token) if "-email-" in r.name}

    before = names(ONCALL, tmp_path / "before")
    after = names(("aaa-first@example.com", *ONCALL), tmp_path / "after")
    assert before < after and len(after - before) == 1
