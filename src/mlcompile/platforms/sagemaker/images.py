"""Serving images for registered models, per framework and region.

SageMaker's first-party scikit-learn and XGBoost containers live in one AWS account per region
(the same account for both; the table is the SageMaker SDK's ``image_uri_config`` for
sklearn 1.2-1 and xgboost 1.7-1). Other frameworks need ``serving_image=`` in
``register_model``: their images depend on framework and Python versions the IR does not state.
"""

from __future__ import annotations

_ACCOUNTS: dict[str, str] = {
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

#: framework -> (repository, default version tag).
_REPOSITORIES: dict[str, tuple[str, str]] = {
    "sklearn": ("sagemaker-scikit-learn", "1.2-1-cpu-py3"),
    "xgboost": ("sagemaker-xgboost", "1.7-1"),
}


def serving_image(framework: str, version: str | None, region: str) -> str | None:
    """The first-party serving image, or None when there is none for this framework/region."""
    if framework not in _REPOSITORIES or region not in _ACCOUNTS:
        return None
    repository, tag = _REPOSITORIES[framework]
    if version:
        tag = f"{version}-cpu-py3" if framework == "sklearn" else version
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{_ACCOUNTS[region]}.dkr.ecr.{region}.{domain}/{repository}:{tag}"


def is_ecr(image: str) -> bool:
    """SageMaker jobs pull from Amazon ECR (private registries, or ECR Public)."""
    host = image.split("/", 1)[0]
    return ".dkr.ecr." in host or host == "public.ecr.aws"
