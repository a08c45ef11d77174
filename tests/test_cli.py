"""The command line through click's CliRunner: bindings, output options,
errors (one message on stderr, documented exit code, never a traceback)."""

from __future__ import annotations

import json

import pytest

from conftest import run_json

LECTURE = ["J=3*(a+b*c)", "--a", "5", "--b", "3", "--c", "2"]


@pytest.mark.parametrize("bindings", [
    ["--a", "5", "--b", "3", "--c", "2"],
    ["--a=5", "--b=3", "--c=2"],
    ["-D", "a=5", "--set", "b=3", "-D", "c=2"],
    ["--a", "5", "-D", "b=3", "--c=2"],
    ["--a", "5.0", "--b", "3e0", "--c", "+2"],
])
def test_binding_forms(run, bindings: list[str]) -> None:
    doc = run_json(run, "J=3*(a+b*c)", *bindings)
    assert doc["gradient"] == {"a": 3, "b": 6, "c": 9}


def test_negative_values(run) -> None:
    doc = run_json(run, "x^2 + y", "--x", "-3", "--y=-.5")
    assert (doc["value"], doc["gradient"]) == (8.5, {"x": -6, "y": 1})


def test_names_that_clash_with_options_bind_with_D(run) -> None:
    doc = run_json(run, "json*of + digits", "-D", "json=2", "-D", "of=3", "--set", "digits=4")
    assert (doc["value"], doc["gradient"]) == (10, {"json": 3, "of": 2, "digits": 1})


@pytest.mark.parametrize("args, code, words", [
    (["x^2"], 2, ["no value for the variable x", "--x VALUE"]),
    (["x*y"], 2, ["no value for the variables x, y"]),
    (["x^2", "--x", "2", "--y", "3"], 2, ["a value was given for y", "does not use y"]),
    (["x^2", "--x", "abc"], 2, ["the value for x is not a number: 'abc'"]),
    (["x^2", "--x", "nan"], 2, ["not a number: 'nan'"]),
    (["x^2", "--x", "inf"], 2, ["not a number: 'inf'"]),
    (["x^2", "--x", "1_000"], 2, ["not a number: '1_000'"]),
    (["x^2", "--x", "١"], 2, ["not a number"]),
    (["x^2", "--x", ""], 2, ["an empty value"]),
    (["x^2", "--x", "1e999"], 2, ["too large"]),
    (["x^2", "--x"], 2, ["--x needs a value"]),
    (["--x", "2", "x^2"], 2, ["the program comes first"]),
    (["2*x", "--x", "1", "--pi", "3"], 2, ["pi is a constant"]),  # (used, pi would be a name)
    (["u = x*2; u", "--x", "1", "--u", "3"], 2, ["u is assigned by the program"]),
    (["x^2", "-D", "x"], 2, ["-D expects NAME=VALUE"]),
    (["x +", "--x", "1"], 2, ["the program ends too early", "line 1, column 4", "    x +\n       ^"]),
    (["sine(x)", "--x", "1"], 2, ["unknown function sine; did you mean sin?"]),
    (["log(x)", "--x", "-1"], 1, ["log", "x = -1", "node f = log(x)"]),
    (["9^9^9^9"], 1, ["overflow", "t2 = 9 ^ t1"]),
    (["u = x; J = u", "--x", "1", "--of", "v"], 2, ["no statement assigns v"]),
])
def test_errors(run, args: list[str], code: int, words: list[str]) -> None:
    res = run("eval", *args)
    assert res.exit_code == code
    assert res.stdout == ""
    assert res.stderr.startswith("error: ")
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr, res.stderr


def test_json_errors_are_json_on_stdout_too(run) -> None:
    res = run("eval", "x +", "--x", "1", "--json")
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["error"]["kind"] == "syntax"
    assert (doc["error"]["line"], doc["error"]["column"]) == (1, 4)
    assert res.stderr.startswith("error: ")
    res = run("eval", "log(x)", "--x", "0", "--json")
    assert res.exit_code == 1
    err = json.loads(res.stdout)["error"]
    assert (err["kind"], err["node"], err["op"], err["inputs"]) == ("domain", "f", "log", {"x": 0})


def test_no_nodes_and_key_order(run) -> None:
    res = run("eval", *LECTURE, "--json", "--no-nodes")
    doc = json.loads(res.stdout)
    assert list(doc) == ["schema", "output", "value", "gradient", "bindings"]


def test_output_is_byte_identical_across_runs(run) -> None:
    outs = {run("eval", "y = sin(x)*x/3; z = y^2 + log(x); z", "--x", "0.7", "--json").stdout
            for _ in range(3)}
    assert len(outs) == 1


def test_digits(run) -> None:
    res = run("eval", "x/3", "--x", "1", "--digits", "4")
    assert "0.3333 " in res.stdout and "0.33333" not in res.stdout
    res = run("eval", "x/3", "--x", "1")
    assert "0.3333333333333333" in res.stdout


def test_of_option(run) -> None:
    doc = run_json(run, "u = b*c; v = a + u; J = 3*v", "--b", "3", "--c", "2", "--of", "u")
    assert (doc["output"], doc["value"], doc["gradient"]) == ("u", 6, {"b": 2, "c": 3})


def test_convention_marker_in_table_and_json(run) -> None:
    res = run("eval", "abs(x)", "--x", "0")
    assert "∂f/∂x = 0 †" in res.stdout
    assert "abs'(0) = 0" in res.stdout
    doc = run_json(run, "abs(x)", "--x", "0")
    node = [n for n in doc["nodes"] if n["name"] == "f"][0]
    assert node["conventions"] == ["abs'(0) = 0"]


def test_program_from_stdin_and_file(run, tmp_path) -> None:
    doc = json.loads(run("eval", "-", "--x", "3", "--json", input="y = x*x\n# square\ny + 1\n").stdout)
    assert (doc["value"], doc["gradient"]) == (10, {"x": 6})
    f = tmp_path / "model.ad"
    f.write_text("u = b*c\nv = a + u\nJ = 3*v\n")
    doc = run_json(run, "-f", str(f), "--a", "5", "--b", "3", "--c", "2")
    assert doc["gradient"] == {"a": 3, "b": 6, "c": 9}
    res = run("eval", "-f", str(f) + ".missing", "--a", "1")
    assert res.exit_code == 2 and "cannot read" in res.stderr


def test_syntax_error_in_file_names_the_file(run, tmp_path) -> None:
    f = tmp_path / "bad.ad"
    f.write_text("u = x\nv = u +\n")
    res = run("eval", "-f", str(f), "--x", "1")
    assert res.exit_code == 2
    assert f"at {f}:line 2" in res.stderr


def test_invalid_utf8_is_named_with_its_byte_offset(run) -> None:
    res = run("eval", "-", "--x", "1", input=b"x + \xff")
    assert res.exit_code == 2
    assert "not valid UTF-8: byte 0xff at byte offset 4" in res.stderr


def test_help_texts_are_complete(run) -> None:
    top = run("--help").stdout
    assert "eval" in top
    text = run("eval", "--help").stdout
    for word in ["--NAME VALUE", "-D NAME=VALUE", "--json", "--no-nodes", "--of", "--digits",
                 "Exit codes"]:
        assert word in text, word
    from autodiff.cli.eval import EVAL_OPTION_NAMES

    names = " ".join(text.split("command's options:")[1].split("Values are")[0].split())
    assert names == ", ".join(EVAL_OPTION_NAMES)


def test_version(run) -> None:
    import autodiff

    assert run("--version").stdout.strip().endswith(autodiff.__version__)


def test_click_errors_are_json_too_in_json_mode(run) -> None:
    res = run("eval", "x", "--x", "1", "--digits", "0", "--json")
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["error"]["kind"] == "usage" and "--digits" in doc["error"]["message"]
    assert res.stderr.startswith("error: Invalid value for '--digits'")
    assert "(autodiff eval --help shows the options)" in res.stderr


def test_of_shows_only_the_outputs_graph(run) -> None:
    # x is not used by u: it is neither required nor shown with a made-up value
    doc = run_json(run, "u = y*2; J = x+1", "--y", "2", "--of", "u")
    assert [n["name"] for n in doc["nodes"]] == ["y", "2", "u"]
    assert doc["gradient"] == {"y": 2}


def test_derivative_errors_use_the_programs_names(run) -> None:
    res = run("eval", "p^q", "--p", "-2", "--q", "3")
    assert res.exit_code == 1
    assert "∂f/∂q = p^q*log(p)" in res.stderr
    res = run("eval", "sqrt(w)", "--w", "0")
    assert "∂f/∂w = 1/(2*sqrt(w))" in res.stderr


def test_atan2_gradient_is_exact_at_simple_points(run) -> None:
    # d atan2(y, x)/dy = x/(x^2 + y^2) = 2/5, d/dx = -y/(x^2 + y^2) = -1/5, exactly in doubles
    doc = run_json(run, "atan2(y, x)", "--y", "1", "--x", "2")
    assert doc["gradient"] == {"y": 0.4, "x": -0.2}


@pytest.mark.parametrize("args, words", [
    (["--x", "1", "--x", "2"], "x is bound twice (again by --x)"),
    (["--x", "1", "-D", "x=2"], "x is bound twice (again by -D x=...)"),
    (["--bindings", '{"x": 1, "x": 2}'], "--bindings: x is bound twice in the JSON object"),
    (["--bindings", '{"x": 1}', "--bindings", '{"x": 2}'], "--bindings is given more than once"),
    (["-D", "θ=1"], "'θ' is not a name (names are ASCII letters"),
    (["-D", "x = 1"], "no spaces around ="),
])
def test_a_binding_given_twice_or_malformed_is_an_error(run, args, words) -> None:
    res = run("eval", "x*2", *args)
    assert res.exit_code == 2
    assert words in res.stderr, res.stderr
