"""The Kubeflow monitoring job: one check of an InferenceService's logged requests, and a run.

A Kubernetes CronJob runs ``python3 -m mlcompile.monitor.job CONFIG`` in a slim image; this
module, ``compare`` and ``stats`` are mounted from a ConfigMap, so the job needs ``python3``
and nothing else (standard library only, Python 3.8 and later). CONFIG is JSON::

    {"spec": <the declaration, MonitoredEndpoint.spec()>,
     "requests_url": "<JSON lines of logged requests>", "baseline_url": "<the baseline CSV>",
     "kfp": {"url": "<KFP API>", "pipeline_id": "...", "experiment_id": "..." (optional),
             "token_file": "<service-account token>"}}

It prints the report as one JSON line; on drift with ``on_drift == "retrain"`` it creates a run
through the KFP v2beta1 API with the declared parameters (``POST /apis/v2beta1/runs``). The exit
code is 0 after a check that started a run or found no drift, 1 when the run could not be
created, and 3 on drift with ``on_drift == "alert"``: the failed Job is the alert, for the
cluster's failed-Job alerting to pick up.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

from mlcompile.monitor.compare import compare, read_rows


def _fetch(url: str, token: str | None = None) -> str:
    if "://" not in url:
        with open(url, encoding="utf-8") as f:
            return f.read()
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(response.read().decode("utf-8"))


def logged_rows(text: str) -> list[dict[str, Any]]:
    """Rows from logged requests: one JSON object per line, each either a row, a record with
    ``features``, or a KServe v1 request body ``{"instances": [...]}`` (objects only)."""
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if isinstance(record, dict) and isinstance(record.get("instances"), list):
            rows.extend(r for r in record["instances"] if isinstance(r, dict))
        elif isinstance(record, dict) and isinstance(record.get("features"), dict):
            rows.append(record["features"])
        elif isinstance(record, dict):
            rows.append(record)
    return rows


def create_run(kfp: dict[str, Any], params: dict[str, Any], reason: str) -> dict[str, Any]:
    """A run of the pipeline's latest version, with ``params``, through the KFP v2beta1 API."""
    body: dict[str, Any] = {
        "display_name": f"drift retrain: {reason}"[:128],
        "description": reason,
        "pipeline_version_reference": {"pipeline_id": kfp["pipeline_id"]},
        "runtime_config": {"parameters": params},
    }
    if kfp.get("experiment_id"):
        body["experiment_id"] = kfp["experiment_id"]
    request = urllib.request.Request(
        kfp["url"].rstrip("/") + "/apis/v2beta1/runs",
        data=json.dumps(body, sort_keys=True).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    token_file = kfp.get("token_file")
    if token_file:
        with open(token_file, encoding="utf-8") as f:
            request.add_header("Authorization", f"Bearer {f.read().strip()}")
    with urllib.request.urlopen(request, timeout=60) as response:
        created: dict[str, Any] = json.loads(response.read().decode("utf-8"))
    return created


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m mlcompile.monitor.job CONFIG.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        config = json.load(f)
    spec = config["spec"]
    baseline = read_rows(_fetch(config["baseline_url"]))
    current = logged_rows(_fetch(config["requests_url"]))
    report = compare(spec, baseline, current)
    result: dict[str, Any] = {"report": report.to_json(), "run": None}
    if report.drifted and spec.get("on_drift") == "retrain":
        reason = f"drift in {', '.join(report.drifted_features())} at endpoint {spec['endpoint']}"
        try:
            run = create_run(config["kfp"], spec.get("retrain_params", {}), reason)
        except OSError as exc:
            result["error"] = f"could not create the run: {exc}"
            print(json.dumps(result, sort_keys=True))
            return 1
        result["run"] = {"run_id": run.get("run_id"), "reason": reason}
    print(json.dumps(result, sort_keys=True))
    return 3 if report.drifted and spec.get("on_drift") != "retrain" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
