"""Errors: one line + hint on stderr, documented exit codes, JSON with -o json, no traceback."""

from __future__ import annotations

import json

import pytest

from tests import synth
from tests.cli.helpers import run_main, run_process, run_typer


def _one_error_line(err: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("rmctl: error: ")
    assert all(ln.startswith(("rmctl: error: ", "hint: ")) for ln in lines), err
    assert sum(ln.startswith("rmctl: error: ") for ln in lines) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["--root", "/nonexistent-root", "topology"],
    ["--root", "/nonexistent-root", "topology", "--tree"],
    ["--root", "/dev/null", "topology"],
])
def test_broken_root_exit_3(argv):
    for code, out, err in (run_main(argv), run_typer(argv)):
        assert code == 3
        _one_error_line(err)
        assert out == ""


def test_broken_root_tarball_exit_3(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"not a tarball at all")
    code, out, err = run_main(["--root", str(bad), "topology"])
    assert code == 3
    _one_error_line(err)


@pytest.mark.parametrize("argv,needle", [
    (["topology", "--bogus"], "No such option: --bogus"),
    (["topology", "-o", "xml"], "'xml' is not one of"),
    (["--lock-timeout", "abc", "topology"], "--lock-timeout"),
    (["no-such-command"], "No such command"),
    (["topology", "-o"], "requires an argument"),
])
def test_malformed_option_exit_2_one_line(argv, needle):
    code, out, err = run_main(argv)
    assert code == 2
    _one_error_line(err)
    assert needle in err
    assert "--help" in err  # the hint says where to look
    assert out == ""
    assert run_typer(argv)[:3] == (code, out, err)


@pytest.mark.parametrize("argv", [
    ["topology", "-o", "json", "--bogus"],
    ["topology", "--bogus", "--output=json"],
    ["--bogus", "topology", "-ojson"],
])
def test_malformed_option_with_json_gives_json_error(argv):
    code, out, err = run_main(argv)
    assert code == 2
    _one_error_line(err)
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["exit_code"] == 2 and doc["error"]["code"] == "usage"


def test_no_arguments_prints_help_and_exits_0():
    code, out, err = run_main([])
    assert code == 0
    assert "Usage: rmctl" in out + err


def test_help_exits_0():
    code, out, err = run_main(["--help"])
    assert code == 0 and "Usage: rmctl" in out and err == ""


def test_version():
    from rmctl import __version__

    code, out, _ = run_main(["--version"])
    assert code == 0 and out.strip() == f"rmctl {__version__}"


def test_help_epilog_lists_every_exit_code_on_its_own_line():
    from rmctl.errors import EXIT_CODE_MEANINGS

    out = run_main(["--help"])[1]
    lines = [" ".join(ln.split()) for ln in out.splitlines()]
    for c, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(c)} {meaning}" in lines, (c, meaning)


def test_internal_error_outside_a_command_handler(capsys):
    """An exception escaping a command without @handle_errors still gives one line and exit 1."""
    import typer

    from rmctl.cli.application import RmctlGroup

    app = typer.Typer(cls=RmctlGroup, rich_markup_mode=None, pretty_exceptions_enable=False)

    @app.command()
    def crash(output: str = typer.Option("table", "-o")):
        raise RuntimeError("unexpected\nmultiline")

    @app.command()
    def other():
        pass

    code = app(args=["crash", "-o", "json"], prog_name="rmctl", standalone_mode=False)
    out, err = capsys.readouterr()
    assert code == 1
    _one_error_line(err)
    assert "unexpected multiline" in err
    assert json.loads(out)["error"]["code"] == "internal_error"
    code = app(args=["crash", "--debug"], prog_name="rmctl", standalone_mode=False)
    out, err = capsys.readouterr()
    # --debug is a global option, accepted after the command too (issue 11 finding 6): the traceback
    assert code == 1 and "Traceback" in err and "RuntimeError: unexpected" in err


def test_process_level_errors_have_no_traceback():
    p = run_process(["--root", "/nonexistent-root", "topology"])
    assert p.returncode == 3 and "Traceback" not in p.stderr
    p = run_process(["topology", "--bogus"])
    assert p.returncode == 2 and p.stderr.startswith("rmctl: error: No such option")


def test_python_dash_m_works(tmp_path):
    root = synth.build(tmp_path / "n")
    p = run_process(["--root", root, "topology", "-o", "json"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["summary"]["pus_online"] == 8
