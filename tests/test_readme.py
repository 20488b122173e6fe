"""The README's portability table is generated from the platforms' own support tables, so it
cannot drift from the code. `make regenerate` rewrites it."""

from __future__ import annotations

import re

from mlcompile import platforms
from mlcompile.ir.features import FEATURES
from tests.conftest import REGENERATE, REPO

START, END = "<!-- support-table:start -->", "<!-- support-table:end -->"
MARK = {"mapped": "mapped", "lowered": "lowered", "refused": "**refused**"}


def support_table() -> str:
    names = ["kubeflow", "sagemaker", "vertex"]
    loaded = [platforms.get(name) for name in names]
    rows = ["| feature | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for feature, label in FEATURES.items():
        cells = []
        for platform in loaded:
            support = platforms.support_of(platform, feature)
            note = support.note.replace("|", "\\|")
            cells.append(f"{MARK[support.status]}: {note}" if note else MARK[support.status])
        rows.append("| " + " | ".join([label.replace("|", "\\|"), *cells]) + " |")
    return "\n".join(rows)


def test_golden_readme_support_table() -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    assert START in text and END in text
    fresh = f"{START}\n{support_table()}\n{END}"
    current = re.search(re.escape(START) + ".*?" + re.escape(END), text, re.S)
    assert current is not None
    if REGENERATE:
        readme.write_text(text.replace(current.group(0), fresh))
        return
    assert current.group(0) == fresh, "the README support table is stale; run `make regenerate`"
