"""Property (hypothesis): any sequence of reserve/release/reconcile/reserve-system keeps
reservations disjoint, within online non-system CPUs, and the state file valid."""

import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover
from rmctl.errors import RmctlError
from rmctl.model.fingerprint import fingerprint
from rmctl.planning.cpus import Constraints, KubeTopology, parse_options
from rmctl.state import ledger as L
from rmctl.state import reservations as rsv
from rmctl.state.ledger import Change
from rmctl.state.records import Owner
from tests import synth

NAMES = [f"r{i}" for i in range(6)]
OPTIONS = [[], ["full-pcpus-only"], ["distribute-cpus-across-numa"], ["distribute-cpus-across-cores"],
           ["prefer-align-cpus-by-uncorecache"], ["align-by-socket"]]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = synth.build(tmp_path_factory.mktemp("prop"), sockets=2, cores=4, threads=2, numa_per_socket=2,
                       offline=(7,))
    return discover(Root.open(root))


ops = st.one_of(
    st.tuples(st.just("reserve"), st.sampled_from(NAMES), st.integers(1, 6), st.sampled_from(range(len(OPTIONS))),
              st.sampled_from([None, 0, 1, 2, 3]), st.booleans()),
    st.tuples(st.just("reserve-cpus"), st.sampled_from(NAMES), st.sets(st.integers(0, 15), min_size=1, max_size=3)),
    st.tuples(st.just("release"), st.sampled_from(NAMES)),
    st.tuples(st.just("reconcile"), st.sets(st.sampled_from(NAMES))),
    st.tuples(st.just("system"), st.integers(1, 3)),
)


def check(node, lg):
    text = open(lg.path).read() if lg.read_text() is not None else None
    if text is None:
        return
    state = L.parse(text, lg.path)  # raises if corrupt or checksum wrong
    topo = node.topology
    usable = topo.online_cpus() & topo.allowed_cpus()
    sysc = state.system_cpus
    seen = CpuSet()
    for rec in state.reservations.values():
        cpus = rec.cpus
        assert cpus, rec
        assert cpus.isdisjoint(seen), "reservations overlap"
        assert cpus.issubset(usable), "reservation holds an offline or not-allowed CPU"
        assert cpus.isdisjoint(sysc), "reservation holds a system CPU"
        seen |= cpus


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, max_size=20))
def test_any_sequence_keeps_the_invariants(node, seq):
    d = tempfile.mkdtemp(prefix="rmctl-prop-")
    try:
        lg = L.Ledger(d, lock_timeout=5)
        fp = fingerprint(node)
        kube = KubeTopology.from_topology(node.topology)
        for op in seq:
            def change(s, op=op):
                if op[0] == "reserve":
                    _, name, n, oi, numa, owned = op
                    owner = Owner(pid=1, start_time=1, command="x") if owned else None
                    s, _ = rsv.reserve(node.topology, s, name, count=n, options=parse_options(OPTIONS[oi]),
                                       constraints=Constraints(numa=numa), owner=owner, kube=kube)
                elif op[0] == "reserve-cpus":
                    s, _ = rsv.reserve(node.topology, s, op[1], cpus=CpuSet(op[2]))
                elif op[0] == "release":
                    s, _ = rsv.release(s, op[1])
                elif op[0] == "reconcile":
                    gone = op[1]
                    owners = {n: r.owner for n, r in s.reservations.items()}
                    s, _, _ = rsv.reconcile(node.topology, s,
                                            lambda o, owners=owners: not (o and any(owners.get(g) is o for g in gone)))
                elif op[0] == "system":
                    s, _ = rsv.reserve_system(node.topology, s, count=op[1], kube=kube)
                return Change(s)

            try:
                lg.update(fp, change)
            except RmctlError as e:
                assert e.exit_code in (2, 4, 5), e
            check(node, lg)
    finally:
        shutil.rmtree(d, ignore_errors=True)
