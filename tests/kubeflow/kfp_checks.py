"""Checks against kfp itself: a strict protobuf parse of every document, and kfp's loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def strict_parse(path: Path) -> list[dict[str, Any]]:
    """Parse every document into its protobuf without ignoring unknown fields; the Struct-typed
    parts (executors, kubernetes configs) are parsed into their own messages too."""
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    spec = json_format.ParseDict(docs[0], pb.PipelineSpec())
    assert json_format.MessageToDict(spec) == docs[0], "spec is not in canonical protobuf JSON form"
    for executor in spec.deployment_spec["executors"].values():
        as_dict = json_format.MessageToDict(executor)
        json_format.ParseDict(as_dict, pb.PipelineDeploymentConfig.ExecutorSpec())
    for doc in docs[1:]:
        platform = json_format.ParseDict(doc, pb.PlatformSpec())
        for config in platform.platforms["kubernetes"].deployment_spec.executors.values():
            json_format.ParseDict(json_format.MessageToDict(config), k8s.KubernetesExecutorConfig())
    return docs
