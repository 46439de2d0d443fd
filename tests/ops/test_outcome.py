"""The Outcome a use case returns, and the CLI's one way of rendering it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rmctl.errors import ExitCode
from rmctl.ops.outcome import Message, Outcome, error, note, warning


def test_message_lines():
    assert error("a step failed", hint="run as root").lines() == "rmctl: error: a step failed\nhint: run as root\n"
    assert warning("odd").lines() == "rmctl: warning: odd\n"
    assert note("fyi").level == "note"


def test_outcome_is_frozen_and_adds_messages():
    o = Outcome(kind="X", data={"a": 1})
    assert o.ok and o.exit_code == ExitCode.OK and o.messages == ()
    with pytest.raises(AttributeError):
        o.exit_code = ExitCode.FAILED  # type: ignore[misc]
    o2 = o.with_messages(note("one"), note("two"))
    assert [m.text for m in o2.messages] == ["one", "two"] and o.messages == ()
    assert Outcome(kind="X", data={}, exit_code=ExitCode.UNSATISFIABLE).ok is False


def test_outcome_import_is_cheap():
    # the topology fast path returns Outcomes: no typing, no dataclasses, no typer
    code = ("import sys; import rmctl.ops.outcome; "
            "print(sorted(m for m in ('typing', 'dataclasses', 'typer', 'inspect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_finish_prints_document_then_messages_then_exits(capsys):
    import typer

    from rmctl.cli.output import finish

    o = Outcome(kind="Thing", data={"n": 1}, exit_code=ExitCode.UNSATISFIABLE,
                messages=(Message("shortfall", hint="retry later"),))
    with pytest.raises(typer.Exit) as e:
        finish(None, o, "json")
    assert e.value.exit_code == 4
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["kind"] == "Thing" and doc["n"] == 1
    assert err == "rmctl: error: shortfall\nhint: retry later\n"


def test_finish_table_and_ok_does_not_exit(capsys):
    from rmctl.cli.output import finish

    seen = []
    finish("settings", Outcome(kind="Thing", data={"n": 2}, view="v"), "table",
           table=lambda s, o: seen.append((s, o.data["n"], o.view)))
    assert seen == [("settings", 2, "v")]
    assert capsys.readouterr() == ("", "")
