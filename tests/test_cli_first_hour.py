"""What a new user meets in the first hour (issue 9): programs and values that
start with a minus sign, output that cannot be written, endless input, a
byte-order mark, options that do not apply, names that clash with options,
the help, `autodiff functions`, suggestions, and check reports for CI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autodiff.cli.common import _read_at_most, read_text
from autodiff.ops import CONSTANTS, OPS

ROOT = Path(__file__).resolve().parents[1]


def doc_of(res) -> dict:
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


# ---------------------------------------------------------------- a leading minus sign

@pytest.mark.parametrize("program, bindings, value, gradient", [
    ("-alpha*x", ["--alpha", "2", "--x", "3"], -6, {"alpha": -3, "x": -2}),
    ("-tanh(x)", ["--x", "0"], 0, {"x": -1}),            # tanh'(0) = 1
    ("-sinh(x)", ["--x", "0"], 0, {"x": -1}),            # cosh(0) = 1
    ("-theta*x", ["--theta", "4", "--x", "0.5"], -2, {"theta": -0.5, "x": -4}),
    ("-x*softplus(y)", ["--x", "2", "--y", "0"], -2 * math.log(2), {"x": -math.log(2), "y": -1}),
    ("-x - offset", ["--x", "1", "--offset", "2"], -3, {"x": -1, "offset": -1}),
    ("-h*2", ["--h", "3"], -6, {"h": -2}),
    ("-hypot(x, 1)", ["--x", "0"], -1, {"x": 0}),
])
def test_a_program_that_starts_with_a_minus_sign_is_evaluated(run, program, bindings, value,
                                                              gradient) -> None:
    for args in ([program, *bindings, "--json"], ["--json", program, *bindings],
                 [program, "--json", *bindings]):
        doc = doc_of(run("eval", *args))
        assert doc["value"] == pytest.approx(value, abs=1e-15)
        assert doc["gradient"] == pytest.approx(gradient, abs=1e-15)


@pytest.mark.parametrize("command", ["graph", "explain"])
def test_graph_and_explain_read_a_leading_minus_sign_too(run, command) -> None:
    res = run(command, "-tanh(x)", "--x", "0")
    assert res.exit_code == 0, res.stderr
    assert "Usage:" not in res.stdout and "tanh(x)" in res.stdout


@pytest.mark.parametrize("command", ["eval", "graph", "explain"])
def test_dash_h_alone_still_shows_the_help(run, command) -> None:
    for flag in ("-h", "--help"):
        res = run(command, flag)
        assert res.exit_code == 0 and res.stdout.startswith(f"Usage: cli {command}")


@pytest.mark.parametrize("value", ["-inf", "-hello", "-Infinity", "-fD", "-nan"])
def test_a_negative_looking_value_is_named_when_it_is_not_a_number(run, value) -> None:
    for extra in ([], ["--json"]):
        res = run("eval", "x*y", "--x", value, "--y", "2", *extra)
        assert res.exit_code == 2
        assert f"error: the value for x is not a number: '{value}'" in res.stderr
    assert doc_of(run("eval", "x*2", "--x", "-2.5", "--json"))["value"] == -5


# ---------------------------------------------------------------- output that cannot be written

def _autodiff(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autodiff", *args], capture_output=False,
                          stderr=subprocess.PIPE, text=True, timeout=60, **kw)


CASES = str(ROOT / "examples" / "cases.toml")
POINTS = str(ROOT / "examples" / "points.ndjson")


@pytest.mark.parametrize("args", [
    ["eval", "x", "--x", "1"], ["eval", "x", "--x", "1", "--json"],
    ["eval", "x*y", "--points", POINTS], ["eval", "x", "--x", "1", "--gradcheck"],
    ["graph", "x", "--x", "1"], ["explain", "x", "--x", "1"], ["check", CASES],
    ["check", CASES, "--format", "junit"], ["functions"], ["--help"], ["eval", "--help"],
])
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_or_closed_stdout_is_an_output_error(args) -> None:
    with open("/dev/full", "w") as full:
        res = _autodiff(args, stdout=full)
    assert res.returncode == 74, res.stderr
    assert res.stderr == "error: cannot write <stdout>: No space left on device\n"
    closed = subprocess.run([sys.executable, "-c", "import os, sys, runpy; os.close(1); "
                             "sys.argv = ['autodiff', *sys.argv[1:]]; "
                             "runpy.run_module('autodiff', run_name='__main__')", *args],
                            stderr=subprocess.PIPE, text=True, timeout=60)
    assert closed.returncode == 74, closed.stderr
    assert closed.stderr.startswith("error: cannot write <stdout>: ")
    assert closed.stderr.count("\n") == 1


# ---------------------------------------------------------------- endless input

class Endless:
    """A stream of zeros that never ends, counting what was read."""

    def __init__(self) -> None:
        self.taken = 0

    def read(self, n: int = -1) -> bytes:
        assert n > 0, "read everything from an endless stream"
        self.taken += n
        return b"0" * n


def test_reading_stops_at_the_limit() -> None:
    stream = Endless()
    assert len(_read_at_most(stream, 4001)) == 4001  # type: ignore[arg-type]
    assert stream.taken == 4001


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("args, stdin", [
    (["eval", "-f", "/dev/zero", "--x", "1"], None),
    (["eval", "-", "--x", "1"], "/dev/zero"),
    (["eval", "x", "--bindings", "@/dev/zero"], None),
    (["eval", "x", "--bindings", "@-"], "/dev/zero"),
    (["graph", "-f", "/dev/zero"], None),
    (["explain", "-", "--x", "1"], "/dev/zero"),
])
def test_endless_input_is_refused_at_the_size_limit(args, stdin) -> None:
    with open(stdin or os.devnull, "rb") as fh:
        res = _autodiff([*args, "--max-chars", "1000"], stdin=fh, stdout=subprocess.PIPE)
    assert res.returncode == 2
    assert "over the limit of 1,000 characters" in res.stderr
    assert "holds more than 4,000 bytes (raise it with --max-chars)" in res.stderr


def test_read_text_refuses_more_than_four_bytes_a_character(tmp_path) -> None:
    f = tmp_path / "p.ad"
    f.write_text("x" * 41, encoding="utf-8")
    assert read_text(str(f), max_chars=11)[0] == "x" * 41  # 41 bytes <= 44: the parser judges
    f.write_text("x" * 45, encoding="utf-8")
    with pytest.raises(Exception, match="holds more than 44 bytes"):
        read_text(str(f), max_chars=11)


# ---------------------------------------------------------------- a byte-order mark

def test_a_byte_order_mark_is_accepted_in_a_file_and_on_stdin(run, tmp_path) -> None:
    f = tmp_path / "bom.ad"
    f.write_bytes(b"\xef\xbb\xbfJ = x*2\n")
    assert doc_of(run("eval", "-f", str(f), "--x", "3", "--json"))["value"] == 6
    assert doc_of(run("eval", "-", "--x", "3", "--json", input=b"\xef\xbb\xbfx*2"))["value"] == 6
    b = tmp_path / "b.json"
    b.write_bytes(b'\xef\xbb\xbf{"x": 4}')
    assert doc_of(run("eval", "x*2", "--bindings", f"@{b}", "--json"))["value"] == 8


# ---------------------------------------------------------------- the shared options

@pytest.mark.parametrize("command", ["graph", "explain"])
def test_graph_and_explain_take_bindings_and_max_chars(run, command, tmp_path) -> None:
    b = tmp_path / "b.json"
    b.write_text('{"x": 0}', encoding="utf-8")
    res = run(command, "tanh(x)", "--bindings", f"@{b}", "--max-chars", "20")
    assert res.exit_code == 0 and "tanh(x)" in res.stdout
    res = run(command, "tanh(x)", "--bindings", '{"x": 0}', "--max-chars", "3")
    assert res.exit_code == 2 and "over the limit of 3" in res.stderr


def test_a_bindings_file_without_at_gets_the_hint(run) -> None:
    res = run("eval", "x", "--bindings", "b.json")
    assert res.exit_code == 2
    assert "write --bindings @b.json" in res.stderr


@pytest.mark.parametrize("args, words", [
    (["eval", "x", "--x", "1", "--no-nodes"], "--no-nodes leaves the per-node trace out of JSON"),
    (["eval", "x", "--x", "1", "--json", "--digits", "3"], "--digits rounds the table's numbers"),
    (["eval", "x", "--x", "1", "--json", "--max-rows", "5"], "--max-rows bounds the table"),
    (["eval", "x", "--x", "1", "--format", "csv"], "--format works with --points FILE"),
    (["eval", "x", "--points", "-", "--format", "table"], "--format table prints one point"),
    (["eval", "x", "--points", "-", "--no-nodes"], "--no-nodes: batch records have no per-node"),
    (["eval", "x", "--x", "1", "--json", "--format", "table"], "--json is short for --format json"),
    (["explain", "x", "--x", "1", "--json", "--format", "latex"], "--json is short for --format json"),
    (["explain", "x", "--x", "1", "--max-paths", "3"], "--max-paths works with --paths"),
    (["explain", "x", "--x", "1", "--json", "--max-nodes", "3"], "--max-nodes shortens the text"),
    (["graph", "x", "--format", "dot", "--max-depth", "3"], "--max-depth bounds the tree"),
    (["check", "examples/cases.toml", "--update", "--format", "json"], "--update rewrites FILE"),
])
def test_options_that_do_not_apply_are_refused(run, args, words, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    res = run(*args, input="")
    assert res.exit_code == 2, res.stderr
    assert res.stderr.startswith("error: ") and words in res.stderr, res.stderr


def test_format_json_is_the_same_as_json(run) -> None:
    assert run("eval", "x*2", "--x", "3", "--json").stdout == \
        run("eval", "x*2", "--x", "3", "--format", "json").stdout
    assert run("explain", "x*2", "--x", "3", "--json").stdout == \
        run("explain", "x*2", "--x", "3", "--format", "json").stdout


@pytest.mark.parametrize("args, words", [
    (["eval", "json*2", "--json", "3"], "--json is an option that takes no value; to bind a "
     "variable named json, write -D json=3"),
    (["eval", "of*2", "--of", "3"], "of is a variable of the program, but --of is an option of "
     "eval; to bind the variable, write -D of=VALUE"),
    (["explain", "paths*x", "--x", "1", "--paths", "3"], "write -D paths=3"),
    (["explain", "digits*x", "--x", "1", "--digits", "3"], "digits is a variable of the program, "
     "but --digits is an option of explain"),
])
def test_a_variable_named_like_an_option_gets_the_D_hint(run, args, words) -> None:
    res = run(*args)
    assert res.exit_code == 2 and words in res.stderr, res.stderr


def test_graph_warns_when_an_option_takes_a_variables_value(run, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = run("graph", "output*2", "--output", "3")
    assert res.exit_code == 0
    assert "warning: output is a variable of the program, but -o/--output is an option of graph; " \
           "to bind the variable, write -D output=VALUE" in res.stderr


# ---------------------------------------------------------------- help, functions, suggestions

def test_no_arguments_print_the_help_once(run) -> None:
    res = run()
    assert res.exit_code == 0 and res.stderr == ""
    assert res.stdout == run("--help").stdout and res.stdout.count("Commands:") == 1


def test_functions_lists_every_row_of_the_operations_table(run) -> None:
    res = run("functions")
    assert res.exit_code == 0
    text = res.stdout
    for op in OPS:
        head = op.doc.split(",")[0] if op.symbol else f"{op.name}({', '.join(op.params)})"
        block = text.split(f"\n{head}    (")[1].split("\n\n")[0].split("\n")
        noun = "argument" if len(op.params) == 1 else "arguments"
        assert f"{len(op.params)} {noun}" in block[0]
        assert block[1].strip() == "; ".join(f"∂/∂{p} = {d.formula}"
                                             for p, d in zip(op.params, op.partials, strict=True))
        assert block[2].strip() == f"defined for {op.domain or 'all reals'}"
    assert "^ and **" in text
    for name, value in CONSTANTS.items():
        assert f"{name} = {value!r}" in text


@pytest.mark.parametrize("name, hint", [
    ("ln", "; did you mean log?"), ("sine", "; did you mean sin?"), ("Sin", "; did you mean sin?"),
    ("sqr", "; did you mean sqrt?"), ("arctan", "; did you mean atan?"),
    ("sgn", "; did you mean sign?"), ("Floor", "; did you mean floor?"),
    ("square", " (autodiff functions lists them)"), ("gamma", " (autodiff functions lists them)"),
    ("asec", " (autodiff functions lists them)"), ("qwerty", " (autodiff functions lists them)"),
])
def test_suggestions_name_the_same_maths_only(run, name, hint) -> None:
    res = run("eval", f"{name}(x)", "--x", "1")
    assert res.exit_code == 2
    assert f"error: unknown function {name}{hint}\n" in res.stderr


# ---------------------------------------------------------------- check reports for CI

def _check_schema(doc: dict) -> dict:
    import jsonschema

    schema = json.loads((ROOT / "schema" / "check.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


def test_check_json_report(run, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    res = run("check", "examples/cases.toml", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = _check_schema(json.loads(res.stdout))
    assert (doc["passed"], doc["failed"]) == (4, 0)
    assert [c["name"] for c in doc["cases"]][0] == "lecture" and doc["cases"][0]["value"] == 33
    assert doc["cases"][2]["error"]["kind"] == "domain"
    res = run("check", "examples/cases-failing.toml", "--format", "json")
    assert res.exit_code == 1
    case = _check_schema(json.loads(res.stdout))["cases"][0]
    assert case["passed"] is False
    assert case["problems"] == ["gradient.b expected 6.5 got 6 (difference -0.5)"]


def test_check_junit_report_parses_as_junit(run, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    for name, passed in (("cases.toml", 4), ("cases-failing.toml", 0)):
        res = run("check", f"examples/{name}", "--format", "junit")
        assert res.exit_code == (0 if passed else 1)
        root = ET.fromstring(res.stdout)
        assert root.tag == "testsuites"
        suite = root.find("testsuite")
        assert suite is not None
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases) and len(cases) == (4 if passed else 1)
        failures = [c.find("failure") for c in cases if c.find("failure") is not None]
        assert int(suite.get("failures", "")) == len(failures) == len(cases) - passed
        for f in failures:
            assert f is not None and "expected 6.5 got 6" in f.get("message", "")
        assert all(float(c.get("time", "")) >= 0 for c in cases)


def test_check_junit_escapes_control_characters(run, tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[[case]]\nname = "a\\u001b[31m"\nprogram = "x"\nbindings = { x = 1 }\n'
                 'expect = { value = 2 }\n', encoding="utf-8")
    res = run("check", str(f), "--format", "junit")
    assert res.exit_code == 1 and "\x1b" not in res.stdout
    assert ET.fromstring(res.stdout).find("testsuite/testcase").get("name") == "a\\x1b[31m"


@pytest.mark.parametrize("args", [
    ["x", "--points", "-", "--gradcheck"],
    ["x +* 2", "--points", "-"],
    ["x", "--points", "-", "--digits", "0"],
    ["x", "--points", "-", "--bindings", "{"],
])
def test_a_batch_level_error_is_one_ndjson_line(run, args) -> None:
    res = run("eval", *args, input="x\n1\n")
    assert res.exit_code == 2
    assert res.stdout.count("\n") == 1
    assert "error" in json.loads(res.stdout)


def test_an_empty_output_file_name_is_refused(run) -> None:
    res = run("graph", "x*2", "--format", "tree", "-o", "")
    assert res.exit_code == 2 and res.stdout == ""
    assert "-o needs a file name" in res.stderr


def test_check_reads_cases_from_stdin(run) -> None:
    toml = ('[[case]]\nname = "lecture"\nprogram = "J=3*(a+b*c)"\nbindings = { a = 5, b = 3, c = 2 }\n'
            'expect = { value = 33, gradient = { a = 3, b = 6, c = 9 } }\n')
    res = run("check", "-", input=toml)
    assert (res.exit_code, res.stdout) == (0, "PASS lecture\n1 passed, 0 failed\n")
    js = '{"case": [{"name": "j", "program": "x*2", "bindings": {"x": 1}, "expect": {"value": 3}}]}'
    res = run("check", "-", "--format", "json", input=js)
    assert res.exit_code == 1 and json.loads(res.stdout)["file"] == "<stdin>"
    res = run("check", "-", input="nonsense =")
    assert res.exit_code == 2 and res.stderr.startswith("error: <stdin>") and "tmp" not in res.stderr
    res = run("check", "-", input='[[case]]\nname = "f"\nfile = "model.ad"\n')
    assert res.exit_code == 2 and "file = is not available for cases read from stdin" in res.stderr
    res = run("check", "-", "--update", input=toml)
    assert res.exit_code == 2 and "cases from stdin have no file to rewrite" in res.stderr
