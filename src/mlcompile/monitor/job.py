"""The stacks' monitoring job: one check of an endpoint's logged requests, and what drift does.

It runs as ``python3 -m mlcompile.monitor.job CONFIG`` with this module, ``compare`` and
``stats`` on ``PYTHONPATH`` (standard library only, Python 3.8 and later), so any image with
``python3`` runs it: a Kubernetes CronJob mounts them from a ConfigMap, a Cloud Run job from the
artifact bucket. CONFIG is JSON::

    {"spec": <the declaration, MonitoredEndpoint.spec()>,
     "baseline_url": "<the baseline CSV: a path or an http(s) URL>",
     # the requests, one of:
     "requests_url": "<JSON lines of logged requests (the KServe logger sink)>",
     "bigquery": {"table": "PROJECT.DATASET.TABLE", "hours": N},
     # what drift does, one of:
     "kfp": {"url": "<KFP API>", "namespace": "...", "token_file": "<service-account token>",
             "pipeline": "<name>" or "pipeline_id": "...", "experiment": "<name>" (optional),
             "service_account": "<the run's>" (optional)},
     "pubsub": {"alert_topic": "projects/P/topics/T", "retrain_topic": "projects/P/topics/R"},
     "api": {...}  # service addresses, for tests (see _API)}

It prints the report as one JSON line. On drift, with ``kfp``, it creates a run through the KFP
v2beta1 API with the declared parameters (``POST /apis/v2beta1/runs``) when the declaration says
retrain; with ``pubsub`` it publishes the report to the alert topic and, to retrain, to the
retrain topic (whose subscriber starts the pipeline job with the parameters). The exit code is 0
after a check that acted or found no drift, 1 when the action failed, and 3 on drift with
``on_drift == "alert"`` and nothing to publish to: the failed Job is the alert, for the cluster's
failed-Job alerting to pick up.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.parse
import urllib.request
from typing import Any

from mlcompile.monitor.compare import compare, read_rows

#: Where the Google APIs are, and the metadata server's token of the job's service account.
_API = {
    "bigquery": "https://bigquery.googleapis.com",
    "pubsub": "https://pubsub.googleapis.com",
    "token": "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/"
    "default/token",
}


def _fetch(url: str, token: str | None = None) -> str:
    if "://" not in url:
        with open(url, encoding="utf-8") as f:
            return f.read()
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(response.read().decode("utf-8"))


def _call(
    url: str, body: dict[str, Any] | None, token: str | None, method: str = "POST"
) -> dict[str, Any]:
    """One JSON request to a REST API, with a bearer token."""
    data = None if body is None else json.dumps(body, sort_keys=True).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read().decode("utf-8") or "{}")
    return answer


def _rows_of(record: Any) -> list[dict[str, Any]]:
    """The feature rows of one logged payload: a row, a record with ``features``, a KServe v1 /
    Vertex request body ``{"instances": [...]}``, or a list of rows (objects only)."""
    if isinstance(record, list):
        return [r for r in record if isinstance(r, dict)]
    if isinstance(record, dict) and isinstance(record.get("instances"), list):
        return [r for r in record["instances"] if isinstance(r, dict)]
    if isinstance(record, dict) and isinstance(record.get("features"), dict):
        return [record["features"]]
    if isinstance(record, dict):
        return [record]
    return []


def logged_rows(text: str) -> list[dict[str, Any]]:
    """Rows from logged requests: one JSON payload per line (see :func:`_rows_of`)."""
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.strip():
            rows.extend(_rows_of(json.loads(line)))
    return rows


# ----- Google Cloud: the endpoint's request-response logging table, Pub/Sub ---------------------


def google_token(api: dict[str, str]) -> str:
    """The job's service-account access token, from the metadata server."""
    request = urllib.request.Request(api["token"], headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.loads(response.read().decode("utf-8"))["access_token"]
    return token


def bigquery_query(table: str, hours: int) -> str:
    """The requests the endpoint logged in the last ``hours`` hours (Vertex's request-response
    logging table holds one row per request: ``request_payload`` is the repeated instances, each
    a JSON string, and ``logging_time`` its time)."""
    return (
        f"SELECT request_payload FROM `{table}`"
        f" WHERE logging_time >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {int(hours)} HOUR)"
    )


def bigquery_rows(
    table: str, hours: int, token: str, api: dict[str, str], page_size: int = 10000
) -> list[dict[str, Any]]:
    """The rows of the requests logged in the window, through ``jobs.query`` and, for a query
    still running or a result of several pages, ``jobs.getQueryResults``."""
    project = table.split(".")[0]
    base = f"{api['bigquery'].rstrip('/')}/bigquery/v2/projects/{project}/queries"
    answer = _call(
        base,
        {
            "query": bigquery_query(table, hours),
            "useLegacySql": False,
            "maxResults": page_size,
            "timeoutMs": 60000,
        },
        token,
    )
    rows: list[dict[str, Any]] = []
    for _ in range(10000):
        if answer.get("jobComplete", False):
            for row in answer.get("rows", []):
                # A REPEATED column is a list of cells; a plain STRING one, the value itself.
                value = row["f"][0].get("v") or []
                for cell in [value] if isinstance(value, str) else value:
                    payload = cell.get("v") if isinstance(cell, dict) else cell
                    if payload:
                        rows.extend(_rows_of(json.loads(payload)))
            if not answer.get("pageToken"):
                return rows
        else:
            time.sleep(1)
        job = answer["jobReference"]
        query = {"maxResults": str(page_size), "timeoutMs": "60000"}
        if job.get("location"):
            query["location"] = job["location"]
        if answer.get("jobComplete", False):
            query["pageToken"] = answer["pageToken"]
        answer = _call(f"{base}/{job['jobId']}?{urllib.parse.urlencode(query)}", None, token, "GET")
    raise RuntimeError(f"the query over {table} returned no last page")


def publish(topic: str, message: dict[str, Any], token: str, api: dict[str, str]) -> str:
    """Publish ``message`` (JSON) to a Pub/Sub topic; returns its message id."""
    data = base64.b64encode(json.dumps(message, sort_keys=True).encode("utf-8")).decode()
    attributes = {"endpoint": str(message.get("endpoint", "")), "kind": "drift"}
    answer = _call(
        f"{api['pubsub'].rstrip('/')}/v1/{topic}:publish",
        {"messages": [{"data": data, "attributes": attributes}]},
        token,
    )
    return str(answer.get("messageIds", [""])[0])


# ----- Kubeflow Pipelines ------------------------------------------------------------------------


def _kfp_token(kfp: dict[str, Any]) -> str | None:
    token_file = kfp.get("token_file")
    if not token_file:
        return None
    with open(token_file, encoding="utf-8") as f:
        return f.read().strip()


def _kfp_find(kfp: dict[str, Any], kind: str, name: str, token: str | None) -> str | None:
    """The id of the pipeline or experiment called ``name`` in the namespace (KFP filters by
    the display name under the key ``name``)."""
    predicate = {"operation": "EQUALS", "key": "name", "string_value": name}
    query = {"filter": json.dumps({"predicates": [predicate]}), "page_size": "1"}
    if kfp.get("namespace"):
        query["namespace"] = kfp["namespace"]
    url = f"{kfp['url'].rstrip('/')}/apis/v2beta1/{kind}s?{urllib.parse.urlencode(query)}"
    found = _call(url, None, token, "GET").get(f"{kind}s") or []
    return str(found[0][f"{kind}_id"]) if found else None


def create_run(kfp: dict[str, Any], params: dict[str, Any], reason: str) -> dict[str, Any]:
    """A run of the pipeline's latest version, with ``params``, through the KFP v2beta1 API; the
    pipeline (and experiment) are looked up by name when ``kfp`` gives no id."""
    bearer = _kfp_token(kfp)
    pipeline_id = kfp.get("pipeline_id") or _kfp_find(kfp, "pipeline", kfp["pipeline"], bearer)
    if pipeline_id is None:
        raise LookupError(f"no pipeline {kfp['pipeline']!r} in KFP: deploy it first")
    experiment_id = kfp.get("experiment_id")
    if not experiment_id and kfp.get("experiment"):
        experiment_id = _kfp_find(kfp, "experiment", kfp["experiment"], bearer)
    body: dict[str, Any] = {
        "display_name": f"drift retrain: {reason}"[:128],
        "description": reason,
        "pipeline_version_reference": {"pipeline_id": pipeline_id},
        "runtime_config": {"parameters": params},
    }
    if experiment_id:
        body["experiment_id"] = experiment_id
    if kfp.get("service_account"):
        body["service_account"] = kfp["service_account"]
    return _call(kfp["url"].rstrip("/") + "/apis/v2beta1/runs", body, bearer)


# ----- one check ---------------------------------------------------------------------------------


def check(config: dict[str, Any]) -> dict[str, Any]:
    """Read the baseline and the window's requests, compare, act; the result to print, with
    ``exit`` its exit code."""
    spec = config["spec"]
    api = {**_API, **config.get("api", {})}
    bearer = google_token(api) if "bigquery" in config or "pubsub" in config else None
    baseline = read_rows(_fetch(config["baseline_url"]))
    if "bigquery" in config:
        assert bearer is not None
        bq = config["bigquery"]
        current = bigquery_rows(bq["table"], int(bq.get("hours", 1)), bearer, api)
    else:
        current = logged_rows(_fetch(config["requests_url"]))
    report = compare(spec, baseline, current)
    result: dict[str, Any] = {"report": report.to_json(), "run": None, "exit": 0}
    if not report.drifted:
        return result
    retrain = spec.get("on_drift") == "retrain"
    reason = f"drift in {', '.join(report.drifted_features())} at endpoint {spec['endpoint']}"
    try:
        if "pubsub" in config:
            assert bearer is not None
            topics = config["pubsub"]
            message = {**report.to_json(), "reason": reason}
            published = {"alert": publish(topics["alert_topic"], message, bearer, api)}
            if retrain and topics.get("retrain_topic"):
                retrain_message = {**message, "parameters": spec.get("retrain_params", {})}
                published["retrain"] = publish(
                    topics["retrain_topic"], retrain_message, bearer, api
                )
            result["published"] = published
        elif retrain:
            run = create_run(config["kfp"], spec.get("retrain_params", {}), reason)
            result["run"] = {"run_id": run.get("run_id"), "reason": reason}
        else:
            result["exit"] = 3
    except (OSError, LookupError) as exc:
        result["error"] = f"could not act on drift: {exc}"
        result["exit"] = 1
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m mlcompile.monitor.job CONFIG.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        config = json.load(f)
    result = check(config)
    code = int(result.pop("exit"))
    # A JSON line with a severity is a structured log entry on Cloud Run and in kubectl logs.
    result["severity"] = (
        "ERROR" if code == 1 else "WARNING" if result["report"]["drifted"] else "INFO"
    )
    print(json.dumps(result, sort_keys=True))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
