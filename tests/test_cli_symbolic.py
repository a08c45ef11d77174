"""`autodiff diff` and `autodiff codegen` on the command line: formats, exit
codes, errors as one line (and JSON with --json), help."""

from __future__ import annotations

import json

import autodiff


def test_diff_text_and_program(run) -> None:
    res = run("diff", "x^2*sin(x)")
    assert res.exit_code == 0 and res.stdout == "d/dx (x^2*sin(x)) = 2*x*sin(x) + x^2*cos(x)\n"
    res = run("diff", "u = b*c; v = a + u; J = 3*v", "--wrt", "a,b", "--format", "program")
    assert res.exit_code == 0 and res.stdout == "dJ_da = 3\ndJ_db = 3*c\n"


def test_diff_program_parses_back_and_of_selects(run) -> None:
    res = run("diff", "h = tanh(w*x + b); L = (h - y)^2/2", "--format", "program")
    text = res.stdout
    point = {"w": 0.7, "x": 0.5, "b": 0.1, "y": 0.2}
    want = autodiff.differentiate("h = tanh(w*x + b); L = (h - y)^2/2", point).gradient
    for v, g in want.items():
        got = run("eval", text, "--of", f"dL_d{v}", "--json", "--no-nodes",
                  *[a for k in autodiff.parse(text).select(f"dL_d{v}").output_variables()
                    for a in (f"--{k}", repr(point[k]))])
        assert got.exit_code == 0, got.stderr
        assert abs(json.loads(got.stdout)["value"] - g) <= 1e-12 * abs(g)


def test_diff_json_and_latex(run) -> None:
    doc = json.loads(run("diff", "x*y", "--json").stdout)
    assert doc["derivatives"] == {"x": "y", "y": "x"} and doc["schema"] == 1
    assert json.loads(run("diff", "x*y", "--format", "json").stdout) == doc
    latex = run("diff", "x*y", "--format", "latex").stdout
    assert latex.startswith("\\begin{align*}") and "\\frac{\\partial f}{\\partial x} &= y" in latex


def test_diff_errors(run) -> None:
    res = run("diff", "x*y", "--wrt", "z")
    assert res.exit_code == 2 and "no variable z" in res.stderr and not res.stdout
    res = run("diff", "x*y", "--wrt", "z", "--json")
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["kind"] == "usage"
    res = run("diff", "x*y", "--x", "3")
    assert res.exit_code == 2 and "takes no bindings" in res.stderr
    res = run("diff", "x*", "--json")
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["kind"] == "syntax"
    assert "Traceback" not in res.stderr


def test_codegen_each_language(run, tmp_path) -> None:
    for lang in ("python", "numpy", "c", "javascript"):
        res = run("codegen", "u = b*c; v = a + u; J = 3*v", "--lang", lang)
        assert res.exit_code == 0, res.stderr
        assert "value_and_gradient" in res.stdout and "u = b * c" in res.stdout
    res = run("codegen", "x*y", "--lang", "python", "--function", "grad_xy")
    namespace: dict = {}
    exec(compile(res.stdout, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    assert namespace["grad_xy"](2.0, 3.0) == (6.0, {"x": 3.0, "y": 2.0})


def test_codegen_errors(run) -> None:
    res = run("codegen", "x*y", "--lang", "fortran")
    assert res.exit_code == 2 and "fortran" in res.stderr
    res = run("codegen", "x*y")
    assert res.exit_code == 2 and "--lang" in res.stderr
    res = run("codegen", "x*y", "--lang", "c", "--function", "int")
    assert res.exit_code == 2 and "int" in res.stderr
    res = run("codegen", "x*y", "--lang", "c", "--function", "1x; system")
    assert res.exit_code == 2 and "identifier" in res.stderr
    res = run("codegen", "erf(x)", "--lang", "javascript")
    assert res.exit_code == 2 and "erf" in res.stderr and "Traceback" not in res.stderr


def test_help(run) -> None:
    top = run("--help").stdout
    assert "diff" in top and "codegen" in top
    for command, words in [("diff", ["--wrt", "--format", "program", "latex", "json", "Exit codes"]),
                           ("codegen", ["--lang", "python", "numpy", "javascript", "--function",
                                        "Exit codes"])]:
        res = run(command, "--help")
        assert res.exit_code == 0
        for w in words:
            assert w in res.stdout, (command, w)
