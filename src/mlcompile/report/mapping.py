"""The per-platform mapping table: for each IR feature a pipeline uses, whether the profile's
platform maps it, lowers it or refuses it, with the note that says how. ``check`` prints it;
the build manifest and the report keep it."""

from __future__ import annotations

from typing import TypedDict

from mlcompile.ir import nodes as ir
from mlcompile.ir.features import FEATURES, features_used
from mlcompile.profiles import Profile


class MappingRow(TypedDict):
    feature: str
    title: str
    status: str
    note: str
    used_by: list[str]


def mapping_table(pipeline: ir.Pipeline, profile: Profile) -> list[MappingRow]:
    """One row per feature the pipeline uses, in the order of :data:`FEATURES`."""
    from mlcompile import platforms

    platform = platforms.get(profile.platform)
    uses = features_used(pipeline)
    rows: list[MappingRow] = []
    for feature in sorted({u.feature for u in uses}, key=list(FEATURES).index):
        support = platforms.support_of(platform, feature)
        rows.append(
            {
                "feature": feature,
                "title": FEATURES[feature],
                "status": support.status,
                "note": support.note,
                "used_by": sorted({u.where for u in uses if u.feature == feature}),
            }
        )
    return rows


def step_mapping(rows: list[MappingRow], step: str) -> list[MappingRow]:
    """The rows of the features one step (or condition, or loop) uses."""
    return [row for row in rows if step in row["used_by"]]


_RANK = {"mapped": 0, "lowered": 1, "refused": 2}


def worst(statuses: list[str]) -> str:
    """The status a node is coloured by: refused over lowered over mapped."""
    return max(statuses, key=lambda s: _RANK.get(s, 0), default="mapped")
