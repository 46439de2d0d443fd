"""YAML (and JSON) input is bounded while it is read, not after (issue 15 item 4).

Before: a 464-byte NodeProfile with 7 levels of aliases took 7.7 s and
1.2 GB (9 levels: 4.6 GB and counting) because the position walk expanded
the aliases; a 32 MB request took 70-137 s and gigabytes; nesting thousands
deep was a RecursionError.  Now the size is checked before the parser sees
a byte, and values (an alias counted as everything it stands for, without
expanding it), characters and depth as the document is composed.  The
bounds asserted here are counts (events composed, bytes read, peak memory
of the process's Python allocations), with generous wall-clock ceilings
only as a guard against a hang.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmctl.errors import RmctlError, UsageError
from rmctl.profile.schema import ProfileError, load_profile, parse_profile
from rmctl.resources import yamlio
from rmctl.resources.yamlio import MAX_DEPTH, MAX_NODES, Budget, InputError, load_documents


def laughs(levels: int, width: int = 10, head: str = "") -> str:
    """Return a NodeProfile whose metadata.labels hold ``levels`` levels of ``width`` aliases each."""
    lines = [f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return (head or "apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\n") + "metadata:\n  name: w\n  labels:\n" \
        "    x: y\nz:\n" + "\n".join(lines) + "\nspec: {}\n"


class Counting:
    """Count compose_node calls of the bounded loader (events composed: the work, aliases not expanded)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = yamlio._Bounded.compose_node

        def counted(loader, parent, index):
            self.calls += 1
            return real(loader, parent, index)

        monkeypatch.setattr(yamlio._Bounded, "compose_node", counted)


@pytest.mark.parametrize("levels", [7, 9, 30])
def test_an_alias_bomb_profile_is_refused_after_a_few_events(monkeypatch, levels):
    text = laughs(levels)
    assert len(text) < 80 * levels + 200  # the was 464 bytes for 7 levels
    count = Counting(monkeypatch)
    tracemalloc.start()
    t0 = time.process_time()
    try:
        with pytest.raises(ProfileError, match=f"more than {MAX_NODES} YAML values"):
            parse_profile(text, "bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count.calls < 20 * levels  # composed once: about 11 events a level, never 10^levels
    assert peak < 8 << 20  # it was 1.2 GB at 7 levels
    assert time.process_time() - t0 < 10  # it was 7.7 s at 7 levels (under tracemalloc: generous)


def test_aliases_within_the_budget_still_load_and_are_positioned():
    # 4 levels of 10: 11,110 values expanded; a real profile may share blocks through anchors and merge keys
    text = laughs(4) + "x-common: &c {count: 1}\n"
    text = text.replace("spec: {}\n", "spec:\n  reservations:\n  - {name: a, count: 1}\n")
    with pytest.raises(ProfileError, match="unknown field 'z'"):  # loaded; refused by the schema, not a budget
        parse_profile(text, "ok.yaml")
    merged = ("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: w}\nspec:\n  reservations:\n"
              "  - &r {name: a, count: 1}\n  - {<<: *r, name: b}\n")
    p = parse_profile(merged, "merge.yaml")
    assert [r.name for r in p.reservations] == ["a", "b"]


def test_a_merge_key_bomb_is_refused():
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(10)) + "}"]
    for i in range(1, 8):
        lines.append(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}")
    t0 = time.process_time()
    with pytest.raises(InputError, match="YAML values"):
        load_documents("\n".join(lines) + "\n", "merge.yaml")
    assert time.process_time() - t0 < 5


def test_a_long_scalar_repeated_through_aliases_is_refused_by_characters():
    text = "a: &a " + "x" * 500_000 + "\nb: [" + ", ".join(["*a"] * 40) + "]\n"
    assert len(text) < yamlio.MAX_YAML_BYTES
    with pytest.raises(InputError, match="characters of YAML scalars"):
        load_documents(text, "long.yaml")  # its JSON (a journal keeps a profile's) would be 20 MB


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000,
                                  "a:\n" + "".join(" " * i + "- \n" for i in range(1, 3000)),
                                  "{a: " * 50_000 + "1" + "}" * 50_000])
def test_deep_nesting_is_refused_as_it_grows(text):
    if len(text) > yamlio.MAX_YAML_BYTES:
        text = text[: yamlio.MAX_YAML_BYTES // 2]
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        load_documents(text, "deep.yaml")
    with pytest.raises(ProfileError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_profile(text, "deep.yaml")


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "- &x [1, [2, *x]]\n"])
def test_a_recursive_alias_is_refused(text):
    with pytest.raises(InputError, match="inside its own anchor"):
        load_documents(text, "rec.yaml")
    with pytest.raises(ProfileError, match="inside its own anchor"):
        parse_profile(text, "rec.yaml")


def test_documents_are_counted_as_they_come():
    text = "---\na: 1\n" * 5000
    with pytest.raises(InputError, match="more than 1000 YAML documents"):
        load_documents(text, "many.yaml")
    assert len(load_documents("---\na: 1\n" * 3, "few.yaml", budget=Budget(max_documents=3))) == 3


@pytest.mark.parametrize("what", ["request", "profile", "class"])
def test_a_32_mb_input_is_refused_by_its_size_before_it_is_parsed(tmp_path, monkeypatch, run_cli, what):
    big = tmp_path / "big.yaml"
    with open(big, "w") as f:
        f.write("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\n"
                "spec:\n  cpus: {count: 1}\n")
        f.write("# padding\n" * (32 << 17))
    assert big.stat().st_size > 32 << 20
    parsed = []
    monkeypatch.setattr(yamlio, "compose", lambda *a, **k: parsed.append(1))
    t0 = time.monotonic()
    if what == "request":
        code, _, err = run_cli("request", "evaluate", str(big))
    elif what == "profile":
        code, _, err = run_cli("plan", "-f", str(big))
    else:
        d = tmp_path / "classes"
        d.mkdir()
        os.rename(big, d / "c.yaml")
        code, _, err = run_cli("class", "validate", str(d / "c.yaml"))
    assert code == 2 and "more than the" in err and "MiB rmctl reads" in err, err
    assert not parsed  # refused before the parser saw a byte
    assert time.monotonic() - t0 < 30  # it took 70-137 s


def test_a_large_stdin_is_refused_after_reading_one_byte_past_the_cap(run_cli):
    code, _, err = run_cli("plan", "-f", "-", input="#" * (yamlio.MAX_YAML_BYTES + 10))
    assert code == 2 and "stdin: more than the 1 MiB" in err, err


def test_a_fifo_profile_nobody_writes_to_is_not_a_hang(tmp_path, run_cli):
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    code, _, err = run_cli("plan", "-f", str(fifo))
    assert code == 2 and "internal error" not in err, err


def test_a_saved_plan_nested_too_deeply_is_bad_input(tmp_path, run_cli):
    p = tmp_path / "plan.json"
    p.write_text("{\"kind\": \"Plan\", \"x\": " + "[" * 100_000 + "]" * 100_000 + "}")
    code, _, err = run_cli("apply", "-f", str(p), "--dry-run")
    assert code == 2 and "nested too deeply" in err, err


def test_the_kubelet_config_of_a_root_is_bounded(tmp_path):
    from rmctl.discovery.kubelet.config import read
    from rmctl.discovery.root import Root

    cfg = tmp_path / "root" / "var" / "lib" / "kubelet"
    cfg.mkdir(parents=True)
    (tmp_path / "root" / "sys" / "devices" / "system" / "cpu").mkdir(parents=True)
    (tmp_path / "root" / "proc").mkdir()
    head = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
    (cfg / "config.yaml").write_text(laughs(9, head=head).replace("metadata:", "x-meta:"))
    t0 = time.process_time()
    with pytest.raises(UsageError, match="YAML values"):
        read(Root.open(str(tmp_path / "root")), "var/lib/kubelet/config.yaml")
    assert time.process_time() - t0 < 5


# -- fuzzing: only rmctl's own errors, whatever the document ------------------------------------------

_TOKENS = ["a", "b", "name", "kind", "spec", "metadata", "apiVersion", "rmctl.io/v1alpha1", "NodeProfile",
           "ResourceRequest", "ResourceClass", "cpus", "count", "1", "-1", "0x10", "1e999", "~", "null", "true",
           "&a", "&b", "*a", "*b", "<<", "!!str", "!!int", "!!python/object:os.system", "!!binary", "!!set",
           "!!omap", "!!timestamp", "2001-12-14", "'q'", '"d\\n"', "|", ">", "?", ":", ": ", "- ", "-", "[", "]",
           "{", "}", ",", "#", "\n", "\n  ", "\n    ", "\t", " ", "---", "...", "%YAML 1.1", "\x00", "é", "\ufeff"]

yaml_texts = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join),
    st.text(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
                 max_leaves=30).map(lambda d: yaml.safe_dump(d)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_texts)
def test_fuzz_yaml_documents_raise_only_rmctl_errors(text):
    from rmctl.resources.classes import class_from_document
    from rmctl.resources.request import request_from_documents

    try:
        docs = load_documents(text, "fuzz.yaml")
    except RmctlError:
        docs = None
    for doc in docs or []:
        for build in (lambda d: class_from_document(d, "fuzz.yaml"),
                      lambda d: request_from_documents([d], "fuzz.yaml")):
            try:
                build(doc)
            except RmctlError:
                pass
    try:
        parse_profile(text, "fuzz.yaml")
    except RmctlError:
        pass
    try:
        yamlio.safe_load(text, "fuzz.yaml")
    except (yaml.YAMLError, RmctlError):
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=12), st.booleans())
def test_fuzz_alias_shapes_stay_within_the_budget(levels, width, merge):
    """Any depth and width of aliases: either refused, or loaded with at most MAX_NODES values."""
    if merge:
        lines = ["m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(width)) + "}"]
        lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * width)}]}}" for i in range(1, levels)]
    else:
        lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    b = Budget()
    try:
        docs = load_documents("\n".join(lines) + "\n", "shape.yaml", budget=b)
    except InputError:
        assert b.nodes > MAX_NODES or b.chars > yamlio.MAX_CHARS
        return
    assert b.nodes <= MAX_NODES
    json.dumps(docs)  # a walk of everything loaded is bounded by the budget


def test_load_profile_reads_a_file_within_the_cap(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: w}\nspec: {}\n")
    assert load_profile(str(p)).name == "w"
