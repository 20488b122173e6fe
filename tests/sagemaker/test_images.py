"""The managed images SageMaker steps and models default to, checked region by region against
the SageMaker SDK's own image-URI tables (``sagemaker.core.image_uris.retrieve``)."""

from __future__ import annotations

import os

import pytest

from mlcompile.platforms.sagemaker import images

pytestmark = pytest.mark.slow

PACKAGES = {
    "sklearn": ["scikit-learn>=1.4"],
    "xgboost": ["xgboost==1.7.6", "pandas"],
    "pytorch": ["torch>=2", "numpy"],
    "tensorflow": ["tensorflow==2.19.0"],
}
PY = {"sklearn": "py3", "xgboost": None, "pytorch": "py312", "tensorflow": "py312"}


@pytest.fixture(scope="module")
def retrieve():  # type: ignore[no-untyped-def]
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")  # the SDK needs one to import
    from sagemaker.core import image_uris

    return image_uris.retrieve


#: scikit-learn and XGBoost have CPU images only; the deep-learning ones a GPU image too.
CASES = [(f, False) for f in images.FRAMEWORKS] + [("pytorch", True), ("tensorflow", True)]


@pytest.mark.parametrize(("framework", "gpu"), CASES)
def test_job_images_match_the_sdk_in_every_region(framework: str, gpu: bool, retrieve) -> None:  # type: ignore[no-untyped-def]
    accounts, _, version = images._FRAMEWORKS[framework]
    assert len(accounts) > 30
    for region in sorted(accounts):
        ours = images.job_image(PACKAGES[framework], region, gpu=gpu)
        assert ours is not None and ours.framework == framework
        expected = retrieve(
            framework,
            region,
            version=version,
            py_version=PY[framework],
            instance_type="ml.g5.xlarge" if gpu else "ml.m5.large",
            image_scope="training",
        )
        assert ours.uri == expected, region


def test_serving_images_match_the_sdk(retrieve) -> None:  # type: ignore[no-untyped-def]
    for region in sorted(images._FIRST_PARTY):
        for framework, version in (("sklearn", "1.2-1"), ("xgboost", "3.0-5")):
            expected = retrieve(
                framework,
                region,
                version=version,
                py_version="py3" if framework == "sklearn" else None,
                instance_type="ml.m5.large",
                image_scope="inference",
            )
            assert images.serving_image(framework, None, region) == expected, region


def test_framework_follows_packages() -> None:
    assert images.framework_of([]) == "sklearn"
    assert images.framework_of(["pandas>=2"]) == "sklearn"
    assert images.framework_of(["XGBoost==2.0"]) == "xgboost"
    assert images.framework_of(["torch", "xgboost"]) == "pytorch"
    assert images.job_image([], "mars-east-1") is None
    assert images.job_image([], "eu-west-1").uri.endswith("sagemaker-scikit-learn:1.2-1-cpu-py3")  # type: ignore[union-attr]


def _images(value: object) -> list[str]:
    """Every ImageUri and model-container Image in a definition."""
    if isinstance(value, dict):
        found = [
            str(v) for k, v in value.items() if k in ("ImageUri", "Image") and isinstance(v, str)
        ]
        return found + [i for v in value.values() for i in _images(v)]
    if isinstance(value, list):
        return [i for v in value for i in _images(v)]
    return []


@pytest.mark.parametrize("target", ["sagemaker-dev", "sagemaker-prod"])
def test_every_compiled_definition_pulls_from_ecr_only(target: str) -> None:
    import json

    from tests.sagemaker.helpers import SOURCES, compiled

    seen = 0
    for name in SOURCES:
        diagnostics, files = compiled(name, target)
        if not files:
            continue
        text = files["pipeline.json"].decode()
        found = _images(json.loads(text))
        assert found and all(images.is_ecr(i) for i in found), (name, found)
        assert not any(d.code == "MLC403" and "ECR" in d.message for d in diagnostics), name
        assert "install mlcompile" not in text and "mlcompile==" not in text
        seen += 1
    assert seen >= 6
