"""The stacks' monitoring job on each platform's input, with data of known distributions.

Kubeflow: requests reach the real request sink as KServe's logger posts them (CloudEvents in
binary mode), the baseline is PUT there as the pipeline's publish_baseline step does, and a
recording KFP API checks the run the job creates. Vertex: a recording stand-in for the metadata
server, BigQuery's ``jobs.query``/``getQueryResults`` (rows shaped as the endpoint's
request-response logging table, over several pages) and Pub/Sub checks the query and what is
published. The same statistics decide: the same distribution is no drift, a shifted mean of one
feature is drift in that feature, and only then is a run requested, with the declared
parameters.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlcompile.monitor import job, sink
from mlcompile.monitor.declaration import monitored_endpoints
from tests.conftest import build_example

FEATURES = ("tenure", "monthly", "calls", "contract")


@pytest.fixture(scope="module")
def churn() -> Any:
    (found,) = monitored_endpoints(build_example("churn"))
    return found


def rows(n: int, seed: int, monthly_mean: float = 70.0) -> list[dict[str, Any]]:
    """Churn-like requests: tenure uniform in 1-72 months, monthly charge normal (sd 12),
    support calls binomial(6, 0.3), contract 0/1/2 with probabilities 0.5/0.3/0.2."""
    rng = random.Random(seed)
    return [
        {
            "tenure": rng.randint(1, 72),
            "monthly": round(rng.gauss(monthly_mean, 12.0), 2),
            "calls": sum(rng.random() < 0.3 for _ in range(6)),
            "contract": rng.choices([0, 1, 2], [0.5, 0.3, 0.2])[0],
        }
        for _ in range(n)
    ]


def baseline_csv(n: int = 2000, seed: int = 1) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, [*FEATURES, "churned"])
    writer.writeheader()
    for row in rows(n, seed):
        writer.writerow({**row, "churned": int(row["calls"] > 3)})
    return out.getvalue()


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in for the services the job calls; ``routes`` answers by (method, path)."""

    calls: ClassVar[list[dict[str, Any]]] = []
    routes: ClassVar[dict[tuple[str, str], Any]] = {}

    def _answer(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self.calls.append(
            {
                "method": method,
                "path": url.path,
                "query": dict(urllib.parse.parse_qsl(url.query)),
                "body": body,
                "headers": dict(self.headers),
            }
        )
        answer = self.routes.get((method, url.path))
        if callable(answer):
            answer = answer(self.calls[-1])
        data = json.dumps(answer if answer is not None else {}).encode()
        self.send_response(200 if answer is not None else 404)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.calls, _Recorder.routes = [], {}
    yield from _serve(_Recorder)


@pytest.fixture
def request_sink(tmp_path: Path) -> Iterator[str]:
    yield from _serve(sink.handler(sink.Store(tmp_path / "sink")))


# ----- Kubeflow: the KServe logger sink, the KFP API --------------------------------------------


def _log_requests(url: str, batch: list[dict[str, Any]]) -> None:
    """What KServe's logger sends for each request (and response) the predictor serves."""
    for i in range(0, len(batch), 4):
        for kind, body in (
            ("org.kubeflow.serving.inference.request", {"instances": batch[i : i + 4]}),
            ("org.kubeflow.serving.inference.response", {"predictions": [0, 1, 0, 0]}),
        ):
            request = urllib.request.Request(
                url,
                data=json.dumps(body).encode(),
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "ce-specversion": "1.0",
                    "ce-type": kind,
                    "ce-id": f"req-{i}",
                    "ce-source": "http://localhost:9081/",
                    "ce-inferenceservicename": "mlc-dev-kubeflow-churn",
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202


def _kubeflow_config(churn: Any, request_sink: str, kfp: str, token: Path) -> dict[str, Any]:
    token.write_text("projected-token\n", encoding="utf-8")
    return {
        "spec": churn.spec(),
        "requests_url": f"{request_sink}/requests?hours=1",
        "baseline_url": f"{request_sink}/baseline",
        "kfp": {
            "url": kfp,
            "namespace": "ml-dev",
            "pipeline": "mlc-dev-kubeflow-churn",
            "experiment": "mlc-dev-kubeflow-churn",
            "service_account": "mlc-dev-kubeflow-churn-exec",
            "token_file": str(token),
        },
    }


def _kfp_routes() -> None:
    _Recorder.routes = {
        ("GET", "/apis/v2beta1/pipelines"): {"pipelines": [{"pipeline_id": "pl-1"}]},
        ("GET", "/apis/v2beta1/experiments"): {"experiments": [{"experiment_id": "ex-1"}]},
        ("POST", "/apis/v2beta1/runs"): {"run_id": "run-1"},
    }


def _put_baseline(request_sink: str) -> None:
    request = urllib.request.Request(
        f"{request_sink}/baseline", data=baseline_csv().encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def test_kubeflow_same_distribution_is_no_drift_and_no_run(
    churn: Any, request_sink: str, recorder: str, tmp_path: Path
) -> None:
    _kfp_routes()
    _put_baseline(request_sink)
    _log_requests(request_sink, rows(1500, seed=2))
    result = job.check(_kubeflow_config(churn, request_sink, recorder, tmp_path / "token"))
    report = result["report"]
    assert report["current_rows"] == 1500 and report["baseline_rows"] == 2000
    assert report["drifted"] is False, report
    assert result["exit"] == 0 and result["run"] is None
    assert _Recorder.calls == []


def test_kubeflow_shifted_mean_creates_the_declared_run(
    churn: Any, request_sink: str, recorder: str, tmp_path: Path
) -> None:
    _kfp_routes()
    _put_baseline(request_sink)
    _log_requests(request_sink, rows(1500, seed=2, monthly_mean=95.0))
    result = job.check(_kubeflow_config(churn, request_sink, recorder, tmp_path / "token"))
    assert result["report"]["drifted_features"] == ["monthly"]
    assert result["exit"] == 0 and result["run"]["run_id"] == "run-1"
    found, experiment, run = _Recorder.calls
    assert json.loads(found["query"]["filter"]) == {
        "predicates": [
            {"operation": "EQUALS", "key": "name", "string_value": "mlc-dev-kubeflow-churn"}
        ]
    }
    assert found["query"]["namespace"] == experiment["query"]["namespace"] == "ml-dev"
    assert run["headers"]["Authorization"] == "Bearer projected-token"
    assert run["body"] == {
        "display_name": "drift retrain: drift in monthly at endpoint churn",
        "description": "drift in monthly at endpoint churn",
        "experiment_id": "ex-1",
        "pipeline_version_reference": {"pipeline_id": "pl-1"},
        "runtime_config": {
            "parameters": {"approval": "PendingManualApproval", "rows": 4000, "seed": 8}
        },
        "service_account": "mlc-dev-kubeflow-churn-exec",
    }
    assert run["body"]["runtime_config"]["parameters"] == churn.retrain_params()


def test_kubeflow_alert_only_fails_the_job(
    churn: Any, request_sink: str, recorder: str, tmp_path: Path
) -> None:
    config = _kubeflow_config(churn, request_sink, recorder, tmp_path / "token")
    config["spec"] = {**config["spec"], "on_drift": "alert"}
    _put_baseline(request_sink)
    _log_requests(request_sink, rows(800, seed=3, monthly_mean=95.0))
    result = job.check(config)
    assert result["report"]["drifted"] is True
    assert result["exit"] == 3 and _Recorder.calls == []


def test_kubeflow_run_that_cannot_be_created_exits_1(
    churn: Any, request_sink: str, recorder: str, tmp_path: Path
) -> None:
    _Recorder.routes = {("GET", "/apis/v2beta1/pipelines"): {"pipelines": []}}
    _put_baseline(request_sink)
    _log_requests(request_sink, rows(800, seed=3, monthly_mean=95.0))
    result = job.check(_kubeflow_config(churn, request_sink, recorder, tmp_path / "token"))
    assert result["exit"] == 1 and "deploy it first" in result["error"]


def test_sink_keeps_requests_by_hour_and_expires_old_ones(tmp_path: Path) -> None:
    store = sink.Store(tmp_path, retention_hours=2)
    hour = 3600.0 * 500_000
    store.add({"instances": [{"tenure": 1}]}, now=hour)
    store.add({"instances": [{"tenure": 2}]}, now=hour + 3600)
    assert job.logged_rows(store.recent(1, now=hour + 3600)) == [{"tenure": 2}]
    assert len(job.logged_rows(store.recent(2, now=hour + 3600))) == 2
    store.add({"instances": [{"tenure": 3}]}, now=hour + 2 * 3600)
    assert not (tmp_path / "requests-500000.jsonl").exists()  # older than the retention


# ----- Vertex: the request-response logging table, Pub/Sub --------------------------------------


def _logging_table(batch: list[dict[str, Any]], per_request: int = 5) -> list[dict[str, Any]]:
    """Rows as ``jobs.query`` returns the endpoint's logging table's ``request_payload``: a
    repeated string, one JSON instance each."""
    return [
        {"f": [{"v": [{"v": json.dumps(r)} for r in batch[i : i + per_request]]}]}
        for i in range(0, len(batch), per_request)
    ]


def _vertex_routes(table_rows: list[dict[str, Any]]) -> None:
    half = len(table_rows) // 2
    job_ref = {"projectId": "mlc-project", "jobId": "job-1", "location": "europe-west4"}

    def results(call: dict[str, Any]) -> dict[str, Any]:
        if "pageToken" not in call["query"]:
            return {"jobComplete": True, "jobReference": job_ref, "rows": table_rows[:half],
                    "pageToken": "page-2"}  # fmt: skip
        return {"jobComplete": True, "jobReference": job_ref, "rows": table_rows[half:]}

    _Recorder.routes = {
        ("GET", "/token"): {"access_token": "metadata-token", "expires_in": 3599},
        # The query is still running when jobs.query returns: the job polls for its result.
        ("POST", "/bigquery/v2/projects/mlc-project/queries"): {
            "jobComplete": False,
            "jobReference": job_ref,
        },
        ("GET", "/bigquery/v2/projects/mlc-project/queries/job-1"): results,
        ("POST", "/v1/projects/mlc-project/topics/mlc-dev-churn-alerts:publish"): {
            "messageIds": ["m-alert"]
        },
        ("POST", "/v1/projects/mlc-project/topics/mlc-dev-churn-churn-drift:publish"): {
            "messageIds": ["m-retrain"]
        },
    }


def _vertex_config(churn: Any, recorder: str, tmp_path: Path) -> dict[str, Any]:
    # The Cloud Run job reads the baseline from the bucket through its storage mount: a file.
    (tmp_path / "baseline.csv").write_text(baseline_csv(), encoding="utf-8")
    return {
        "spec": churn.spec(),
        "baseline_url": str(tmp_path / "baseline.csv"),
        "bigquery": {
            "table": "mlc-project.mlc_dev_churn_churn_drift_requests.request_response_logging",
            "hours": 1,
        },
        "pubsub": {
            "alert_topic": "projects/mlc-project/topics/mlc-dev-churn-alerts",
            "retrain_topic": "projects/mlc-project/topics/mlc-dev-churn-churn-drift",
        },
        "api": {"bigquery": recorder, "pubsub": recorder, "token": f"{recorder}/token"},
    }


def test_vertex_same_distribution_is_no_drift_and_publishes_nothing(
    churn: Any, recorder: str, tmp_path: Path
) -> None:
    _vertex_routes(_logging_table(rows(1500, seed=2)))
    result = job.check(_vertex_config(churn, recorder, tmp_path))
    assert result["report"]["current_rows"] == 1500
    assert result["report"]["drifted"] is False, result["report"]
    assert result["exit"] == 0 and "published" not in result
    token, query, page1, page2 = _Recorder.calls
    assert token["headers"]["Metadata-Flavor"] == "Google"
    assert query["headers"]["Authorization"] == "Bearer metadata-token"
    assert query["body"]["useLegacySql"] is False
    assert query["body"]["query"] == (
        "SELECT request_payload FROM"
        " `mlc-project.mlc_dev_churn_churn_drift_requests.request_response_logging`"
        " WHERE logging_time >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR)"
    )
    assert page1["query"]["location"] == "europe-west4" and "pageToken" not in page1["query"]
    assert page2["query"]["pageToken"] == "page-2"


def test_vertex_shifted_mean_alerts_and_requests_the_declared_run(
    churn: Any, recorder: str, tmp_path: Path
) -> None:
    _vertex_routes(_logging_table(rows(1500, seed=2, monthly_mean=95.0)))
    result = job.check(_vertex_config(churn, recorder, tmp_path))
    assert result["report"]["drifted_features"] == ["monthly"]
    assert result["exit"] == 0
    assert result["published"] == {"alert": "m-alert", "retrain": "m-retrain"}
    alert, retrain = (c for c in _Recorder.calls if c["path"].endswith(":publish"))
    assert alert["path"] == "/v1/projects/mlc-project/topics/mlc-dev-churn-alerts:publish"
    (message,) = alert["body"]["messages"]
    assert message["attributes"] == {"endpoint": "churn", "kind": "drift"}
    sent = json.loads(base64.b64decode(message["data"]))
    assert sent["drifted_features"] == ["monthly"]
    assert sent["reason"] == "drift in monthly at endpoint churn"
    monthly = [c for c in sent["checks"] if c["feature"] == "monthly"]
    assert {c["statistic"] for c in monthly if c["drifted"]} == {"psi", "ks"}
    (message,) = retrain["body"]["messages"]
    assert json.loads(base64.b64decode(message["data"]))["parameters"] == {
        "approval": "PendingManualApproval",
        "rows": 4000,
        "seed": 8,
    }


def test_vertex_alert_only_publishes_to_the_alert_topic(
    churn: Any, recorder: str, tmp_path: Path
) -> None:
    _vertex_routes(_logging_table(rows(800, seed=3, monthly_mean=95.0)))
    config = _vertex_config(churn, recorder, tmp_path)
    config["spec"] = {**config["spec"], "on_drift": "alert"}
    config["pubsub"]["retrain_topic"] = None
    result = job.check(config)
    assert result["exit"] == 0 and result["published"] == {"alert": "m-alert"}


def test_main_prints_one_structured_log_line(
    churn: Any, recorder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _vertex_routes(_logging_table(rows(800, seed=3, monthly_mean=95.0)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_vertex_config(churn, recorder, tmp_path)), encoding="utf-8")
    assert job.main([str(config)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    printed = json.loads(line)
    assert printed["severity"] == "WARNING" and printed["report"]["drifted"] is True


# ----- the baseline the pipeline publishes, and where the compiled pipelines publish it ---------


def test_publish_baseline_puts_the_data_set_where_the_job_reads_it(
    request_sink: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlcompile.dsl.artifacts import Dataset
    from mlcompile.runtime.ops import shared

    monkeypatch.delenv(shared.NO_SERVICES_VARIABLE, raising=False)
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "part-0.csv").write_bytes(baseline_csv(50).encode())
    shared.publish_baseline(Dataset(str(folder)), "churn", f"{request_sink}/baseline")
    with urllib.request.urlopen(f"{request_sink}/baseline", timeout=10) as response:
        assert response.read().decode() == baseline_csv(50)
    # gs:// is written through the step's storage mount (/gcs/ on Vertex).
    monkeypatch.setattr(shared, "local_path", lambda uri: str(tmp_path / uri[len("gs://") :]))
    shared.publish_baseline(Dataset(str(folder)), "churn", "gs://b/monitoring/churn/baseline.csv")
    assert (tmp_path / "b/monitoring/churn/baseline.csv").read_bytes() == baseline_csv(50).encode()


@pytest.mark.parametrize(
    ("name", "target"),
    [
        (
            "vertex-dev",
            "gs://mlc-dev-artifacts-mlc-dev-project/monitoring/mlc-dev-churn/baseline.csv",
        ),
        (
            "kubeflow-dev",
            "http://mlc-dev-kubeflow-churn-requests.ml-dev.svc.cluster.local/baseline",
        ),
    ],
)
def test_compiled_pipeline_publishes_the_training_data_after_the_deploy(
    name: str, target: str
) -> None:
    """The baseline step reads the training data set (the monitor's default baseline) and runs
    after the deploy step, with the target the stack's monitoring job reads."""
    import yaml

    from mlcompile import platforms
    from tests.conftest import profile

    prof = profile(name)
    built = platforms.get(prof.platform).compile(build_example("churn"), prof)
    spec = next(yaml.safe_load_all(built.files["pipeline.yaml"]))
    dags = [c["dag"]["tasks"] for c in spec["components"].values() if "dag" in c]
    dags.append(spec["root"]["dag"]["tasks"])
    (task,) = [t["deploy-model-baseline"] for t in dags if "deploy-model-baseline" in t]
    assert task["dependentTasks"] == ["deploy-model"]
    assert task["inputs"]["parameters"]["endpoint"]["runtimeValue"]["constant"] == "churn"
    assert "data" in task["inputs"]["artifacts"]
    executor = spec["deploymentSpec"]["executors"]["exec-publish-baseline"]["container"]
    config = json.loads(executor["args"][executor["args"].index("--config") + 1])
    assert config == {"target": target}
