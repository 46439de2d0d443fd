"""render.data.dumps writes exactly json.dumps(doc, indent=2, default=...)'s bytes, faster."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rmctl.cpuset import CpuSet
from rmctl.render.data import _default, dumps

_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                     st.frozensets(st.integers(0, 8191), max_size=5).map(CpuSet),
                     st.sets(st.integers(-5, 5), max_size=4))
_keys = st.one_of(st.text(max_size=6), st.integers(-3, 3), st.booleans(), st.none(),
                  st.floats(allow_nan=False, allow_infinity=True))
_docs = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(_keys, inner, max_size=4)), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _docs, max_size=5))
def test_same_bytes_as_json_dumps(doc):
    assert dumps(doc, "json") == json.dumps(doc, indent=2, default=_default) + "\n"


def test_a_topology_document(fixture_root):
    from rmctl.discovery import Root, discover
    from rmctl.render.data import document
    from rmctl.render.topology import topology_data

    doc = document("Topology", topology_data(discover(Root.open(fixture_root("utillinux-x86_64-epyc_7451")))))
    assert dumps(doc, "json") == json.dumps(doc, indent=2, default=_default) + "\n"


def test_bad_keys_and_objects_are_refused_as_json_does():
    import pytest

    for bad in ({(1, 2): 1}, {"x": object()}):
        with pytest.raises(TypeError):
            json.dumps(bad, indent=2, default=_default)
        with pytest.raises(TypeError):
            dumps(bad, "json")
