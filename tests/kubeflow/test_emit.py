"""The KFP YAML writer: whatever JSON data it writes, PyYAML reads back the same data."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcompile.platforms.kfp_spec.emit import dump_yaml

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=25,
)
_SCRIPTS = st.lists(st.sampled_from(["set -e", '  exec python3 -c "$0"', "", "# x: y", "a\tb"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.dictionaries(st.text(), _DATA, max_size=5), min_size=1, max_size=3))
def test_round_trip(documents: list[dict[str, Any]]) -> None:
    assert list(yaml.safe_load_all(dump_yaml(documents, ["header"]))) == [
        d or {} for d in documents
    ]


@settings(max_examples=200, deadline=None)
@given(_SCRIPTS, st.sampled_from(["", "\n", "\n\n"]))
def test_scripts_round_trip_as_literal_blocks(lines: list[str], end: str) -> None:
    script = "\n".join(lines) + end
    document = {"command": ["sh", "-ec", script], "nested": {"script": script}}
    assert yaml.safe_load(dump_yaml([document], [])) == document


def test_readable_shapes() -> None:
    text = dump_yaml([{"b": [1.0, 1e-05, "yes", "x y"], "a": {"s": "line\nnext\n"}}], ["h"])
    assert text.decode() == (
        '# h\na:\n  s: |\n    line\n    next\nb:\n- 1.0\n- 1.0e-05\n- "yes"\n- x y\n'
    )
