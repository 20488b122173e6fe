"""AWS-managed images for SageMaker jobs and models, per framework and region.

SageMaker pulls images from Amazon ECR only, so a step without an image of its own runs in the
AWS-managed framework image its packages call for (scikit-learn, XGBoost, PyTorch, TensorFlow),
and a registered model is served by its framework's image. The accounts and tags are those of
the SageMaker SDK's ``image_uri_config`` tables (a test compares every region with the SDK's
``image_uris.retrieve``); the isolated ``us-iso*`` partitions are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlcompile.images.requirements import package_name

#: Account of the scikit-learn and XGBoost images, per region.
_FIRST_PARTY: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}

#: Account of the PyTorch and TensorFlow deep-learning containers, per region.
_DEEP_LEARNING: dict[str, str] = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-east-2": "975050140332",
    "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "763104351884",
    "ap-south-2": "772153158452",
    "ap-southeast-1": "763104351884",
    "ap-southeast-2": "763104351884",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462",
    "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437",
    "ca-central-1": "763104351884",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-1": "763104351884",
    "eu-central-2": "380420809688",
    "eu-north-1": "763104351884",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "eu-west-1": "763104351884",
    "eu-west-2": "763104351884",
    "eu-west-3": "763104351884",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "mx-central-1": "637423239942",
    "sa-east-1": "763104351884",
    "us-east-1": "763104351884",
    "us-east-2": "763104351884",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
    "us-west-1": "763104351884",
    "us-west-2": "763104351884",
}

#: Framework -> (account table, repository, version, tag without processor/python parts).
_FRAMEWORKS: dict[str, tuple[dict[str, str], str, str]] = {
    "sklearn": (_FIRST_PARTY, "sagemaker-scikit-learn", "1.2-1"),
    "xgboost": (_FIRST_PARTY, "sagemaker-xgboost", "1.7-1"),
    "pytorch": (_DEEP_LEARNING, "pytorch-training", "2.6.0"),
    "tensorflow": (_DEEP_LEARNING, "tensorflow-training", "2.19.0"),
}
#: Which framework image a step needs, by the distributions it installs (first match wins).
_FRAMEWORK_OF_PACKAGE: tuple[tuple[str, str], ...] = (
    ("torch", "pytorch"),
    ("tensorflow", "tensorflow"),
    ("tensorflow-cpu", "tensorflow"),
    ("keras", "tensorflow"),
    ("xgboost", "xgboost"),
)
FRAMEWORKS = tuple(_FRAMEWORKS)


@dataclass(frozen=True)
class FrameworkImage:
    framework: str
    version: str
    uri: str


def _domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def framework_of(packages: Iterable[str]) -> str:
    """The framework image a step with these packages runs in (scikit-learn by default: it
    carries Python 3, NumPy, pandas and SciPy)."""
    names = {package_name(p) for p in packages}
    for package, framework in _FRAMEWORK_OF_PACKAGE:
        if package in names:
            return framework
    return "sklearn"


def job_image(packages: Iterable[str], region: str, gpu: bool = False) -> FrameworkImage | None:
    """The AWS-managed image for a job installing ``packages``, or None outside the table."""
    framework = framework_of(packages)
    accounts, repository, version = _FRAMEWORKS[framework]
    if region not in accounts:
        return None
    if framework == "sklearn":
        tag = f"{version}-cpu-py3"
    elif framework == "xgboost":
        tag = version
    else:
        tag = f"{version}-{'gpu' if gpu else 'cpu'}-py312"
    uri = f"{accounts[region]}.dkr.ecr.{region}.{_domain(region)}/{repository}:{tag}"
    return FrameworkImage(framework, version, uri)


#: The serving image's version when register_model names none. XGBoost reads models older
#: releases saved, not newer ones, so a model ``Model.save`` wrote with a current xgboost is
#: served by the newest XGBoost image.
_SERVING_VERSIONS = {"sklearn": "1.2-1", "xgboost": "3.0-5"}
#: Frameworks whose managed image serves our models through mlcompile's handlers (its
#: ``SAGEMAKER_PROGRAM`` script mode, as the SDK's SKLearnModel and XGBoostModel use).
#: https://sagemaker.readthedocs.io/en/stable/frameworks/xgboost/using_xgboost.html
HANDLED = tuple(_SERVING_VERSIONS)
#: Why no AWS-managed image serves a framework's model as ``Model.save`` writes it.
_NO_SERVING_IMAGE = {
    "lightgbm": "AWS publishes no LightGBM framework image (LightGBM is a JumpStart built-in"
    " algorithm with its own model packaging)",
    "pytorch": "its PyTorch inference image reads a model's handlers from the code/ folder"
    " of a model.tar.gz, which a pipeline step's model output does not have",
}


def no_serving_reason(framework: str, region: str) -> str:
    """Why :func:`serving_image` has no image for ``framework`` in ``region``."""
    if framework in _NO_SERVING_IMAGE:
        return _NO_SERVING_IMAGE[framework]
    if framework in HANDLED:
        return f"it has no {framework} image in {region}"
    return f"its {framework} serving images depend on versions the pipeline does not state"


def serving_image(framework: str, version: str | None, region: str) -> str | None:
    """The first-party serving image, or None when there is none for this framework/region.

    Only scikit-learn and XGBoost, served by our handlers (:data:`HANDLED`); other frameworks
    need ``serving_image=`` in ``register_model`` (:func:`no_serving_reason` says why)."""
    if framework not in HANDLED or region not in _FIRST_PARTY:
        return None
    _, repository, _ = _FRAMEWORKS[framework]
    tag = version or _SERVING_VERSIONS[framework]
    if framework == "sklearn":
        tag = f"{tag}-cpu-py3"
    return f"{_FIRST_PARTY[region]}.dkr.ecr.{region}.{_domain(region)}/{repository}:{tag}"


def is_ecr(image: str) -> bool:
    """SageMaker jobs pull from Amazon ECR (private registries, or ECR Public)."""
    host = image.split("/", 1)[0]
    return ".dkr.ecr." in host or host == "public.ecr.aws"
