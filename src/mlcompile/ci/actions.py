"""Every third-party GitHub Action a generated workflow uses, pinned by full commit SHA.

A tag can be moved to other code; a commit cannot. The version each SHA was released as is kept
beside it so an update is a reviewed edit of this one table.
"""

from __future__ import annotations

from typing import NamedTuple


class Pin(NamedTuple):
    sha: str
    version: str


ACTIONS: dict[str, Pin] = {
    "actions/checkout": Pin("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": Pin("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/cache": Pin("5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"),
    "actions/upload-artifact": Pin("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": Pin("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "aws-actions/configure-aws-credentials": Pin(
        "e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"
    ),
    "google-github-actions/auth": Pin("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "azure/login": Pin("a457da9ea143d694b1b9c7c869ebb04ebe844ef5", "v2.3.0"),
}


def uses(action: str) -> str:
    """The ``uses:`` value for ``action``, pinned; the version goes in a trailing comment."""
    pin = ACTIONS[action]
    return f"{action}@{pin.sha}"
