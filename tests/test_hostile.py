"""Hostile and odd input through the CLI: every case ends with a documented
exit code, one clear message, no traceback, in bounded time; nothing the user
typed runs, and nothing they typed is interpreted by a terminal or by Rich."""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autodiff

AUTODIFF = str(Path(sys.executable).parent / "autodiff")


@pytest.mark.parametrize("program, words", [
    ("__import__('os').system('touch {marker}')", ["unexpected character '''", "strings are not part"]),
    ("().__class__", ["unexpected ')'"]),
    ("lambda: 1", ["unexpected character ':'"]),
    ("'a'+'b'", ["strings are not part of the language"]),
    ("x if y else z", ["unexpected name 'if'"]),
    ("getattr(x, y)", ["unknown function getattr"]),
    ("exec(x)", ["unknown function exec"]),
    ("open(x)", ["unknown function open"]),
    ("x.y", ["unexpected character '.'"]),
    ("x[0]", ["only round parentheses group"]),
    ("x; import os", ["unexpected name 'os'"]),
])
def test_code_shaped_text_is_a_syntax_error_and_nothing_runs(run, tmp_path, program, words) -> None:
    marker = tmp_path / "pwned"
    res = run("eval", program.format(marker=marker), "--x", "1")
    assert res.exit_code == 2
    assert not marker.exists()
    for w in words:
        assert w in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("program, shown", [
    ("x\x1b[31m + 1", "\\x1b"),
    ("x\u200b + 1", "\\u200b"),
    ("x\u202e + 1", "\\u202e"),
    ("x\x00 + 1", "\\x00"),
    ("x\x07 + 1", "\\x07"),
    ("x + [bold]1[/bold]", "[bold]1[/bold]"),
    ("[/red]x", "[/red]x"),
])
def test_control_characters_and_markup_are_shown_escaped(run, program, shown) -> None:
    res = run("eval", "-", "--x", "1", input=program)
    assert res.exit_code == 2
    assert shown in res.stderr
    for raw in ("\x1b", "\u200b", "\u202e", "\x00", "\x07"):
        assert raw not in res.stderr
    assert "MarkupError" not in res.stderr and "Traceback" not in res.stderr


def test_markup_in_a_table_is_printed_literally() -> None:
    # Program names cannot hold brackets, but a graph built through the library
    # can carry any label: the table must print it as typed, never read it as
    # Rich markup ("[red]" would vanish and colour the rest).
    import io

    from rich.console import Console

    from autodiff.table import result_renderable

    g = autodiff.parse("J = x*2")
    g.labels[g.output] = "[red]J[/red]"
    g.output_name = "[red]J[/red]"
    r = autodiff.evaluate(g, {"x": 1.0})
    buf = io.StringIO()
    Console(file=buf, width=100, color_system=None, markup=False).print(result_renderable(r))
    assert "[red]J[/red]" in buf.getvalue()
    assert buf.getvalue().count("[red]") >= 2  # the row and the gradient lines


def test_invalid_utf8_in_a_file_names_the_byte_offset(run, tmp_path) -> None:
    f = tmp_path / "bad.ad"
    f.write_bytes(b"u = x*2\nv = u\xc3\x28 + 1\n")
    res = run("eval", "-f", str(f), "--x", "1")
    assert res.exit_code == 2
    assert f"{f} is not valid UTF-8: byte 0xc3 at byte offset 13" in res.stderr


N = 100_000


@pytest.mark.parametrize("program, value", [
    ("(" * N + "x" + ")" * N, 2),
    ("abs(" * N + "x" + ")" * N, 2),
    ("-" * N + "x", 2),
    ("+" * N + "x", 2),
])
def test_100k_deep_input_through_the_cli(run, program, value) -> None:
    res = run("eval", program, "--x", "2", "--json", "--no-nodes")
    assert res.exit_code == 0, res.stderr
    assert f'"value": {value}' in res.stdout


def test_10mb_of_input_meets_the_documented_limit_at_once(run) -> None:
    program = "x + " * 2_625_000 + "x"  # 10.5 MB
    t0 = time.monotonic()
    res = run("eval", "-", "--x", "3", input=program)
    assert res.exit_code == 2
    assert "10,500,001 characters long, over the limit of 10,000,000 (raise it with --max-chars)" \
        in res.stderr
    assert time.monotonic() - t0 < 5


def test_10mb_of_input_works_under_a_raised_limit(run) -> None:
    program = "# " + "c" * 5_000_000 + "\n" + " " * 5_000_000 + "x*2"
    t0 = time.monotonic()
    res = run("eval", "-", "--x", "3", "--json", "--no-nodes", "--max-chars", "20000000", input=program)
    assert res.exit_code == 0 and '"value": 6' in res.stdout
    assert time.monotonic() - t0 < 10


def test_a_lower_limit_is_named(run) -> None:
    res = run("eval", "-", "--x", "3", "--max-chars", "1000", input="x + " * 400 + "x")
    assert res.exit_code == 2
    assert "1,601 characters long, over the limit of 1,000 (raise it with --max-chars)" in res.stderr


def test_huge_number_literal_and_huge_name(run) -> None:
    res = run("eval", "-", input="1" * 1_000_000)
    assert res.exit_code == 2 and "is too large for a double" in res.stderr
    assert len(res.stderr) < 1000
    res = run("eval", "-", input="x" * 1_000_000)
    assert res.exit_code == 2 and "no value for the variable xxxx" in res.stderr
    assert len(res.stderr) < 1000


def test_literals_are_floats_so_power_towers_answer_at_once(run) -> None:
    t0 = time.monotonic()
    res = run("eval", "9^9^9^9^9^9^9^9")
    assert res.exit_code == 1 and "overflow" in res.stderr
    assert time.monotonic() - t0 < 2


def test_internal_error_is_one_line_and_exit_70(run, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(importlib.import_module("autodiff.evaluate"), "forward", broken)
    res = run("eval", "x*2", "--x", "1")
    assert res.exit_code == 70
    assert res.stderr.count("\n") == 1 and "internal error" in res.stderr and "report" in res.stderr
    res = run("eval", "x*2", "--x", "1", "--debug")
    assert res.exit_code == 70
    assert "Traceback" in res.stderr and "simulated bug" in res.stderr


def _pipe(cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], capture_output=True, text=True,
                          timeout=60)


def test_head_ends_quietly() -> None:
    # 600 terms: well over a 64 KiB pipe buffer of table and JSON output
    big = "+".join(f"x*{i}" for i in range(1, 600))
    for tail in ("head -c1", "head -1"):
        r = _pipe(f"'{AUTODIFF}' eval '{big}' --x 1 --json | {tail}")
        assert r.stderr == "", r.stderr
        r = _pipe(f"'{AUTODIFF}' eval '{big}' --x 1 --max-rows 100000 | {tail}")
        assert r.stderr == "", r.stderr


def test_sigint_exits_130_without_a_traceback() -> None:
    # The program comes from a stdin that never ends, so the process waits.
    proc = subprocess.Popen([AUTODIFF, "eval", "-", "--x", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in err and "interrupted" in err


def test_user_text_never_reaches_eval_or_exec() -> None:
    # The one exec is compile.py's, of source it writes from a validated graph's
    # integers, the ops table and float reprs (tests/test_compile.py checks that
    # no user text reaches it); nothing else may eval or exec, raise the
    # recursion limit, or load Lark's on-disk cache.
    src = Path(__file__).resolve().parents[1] / "src" / "autodiff"
    allowed = {("compile.py", "exec("), ("arrays.py", "exec(")}  # (arrays.py: the same, for NumPy)
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for bad in ("eval(", "exec(", "setrecursionlimit", "cache=True"):
            if (path.name, bad) in allowed:
                continue
            hits = [line for line in text.splitlines()
                    if bad in line and not line.lstrip().startswith("#")
                    and f"_{bad}" not in line and f".{bad}" not in line and f"def {bad}" not in line]
            assert not hits, f"{path.name}: {hits}"
