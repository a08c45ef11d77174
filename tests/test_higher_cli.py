"""eval --mode/--seed/--of J,K/--hessian/--hvp/--order/--exact and explain
--mode forward through the CLI: JSON validated against the schema, numbers
against hand-worked values (the maths itself is tested against SymPy in
test_higher.py and test_exact.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Callable

import pytest

from conftest import valid

LECTURE = ("u = b*c; v = a + u; J = 3*v", "--a", "5", "--b", "3", "--c", "2")


def _json(run: Callable[..., Any], *args: str) -> dict[str, Any]:
    res = run("eval", *args, "--json")
    assert res.exit_code == 0, res.stderr
    return valid(json.loads(res.stdout))


def test_forward_mode_with_a_seed_has_a_tangent_column(run) -> None:
    res = run("eval", *LECTURE, "--mode", "forward", "--seed", "b=1")
    assert res.exit_code == 0, res.stderr
    assert "tangent" in res.stdout and "∂J/∂(b=1) = 6   (1 forward sweep)" in res.stdout
    doc = _json(run, *LECTURE, "--mode", "forward", "--seed", "b=1,c=-1")
    assert doc["forward"] == {"sweeps": 1, "seed": {"b": 1, "c": -1}, "derivative": 6 - 9}
    assert doc["gradient"] == {}
    tangents = {n["name"]: n["tangent"] for n in doc["nodes"]}
    assert tangents == {"b": 1, "c": -1, "a": 0, "u": 2 - 3, "v": -1, "3": 0, "J": -3}


def test_forward_mode_without_a_seed_and_both(run) -> None:
    doc = _json(run, *LECTURE, "--mode", "forward")
    assert doc["gradient"] == {"b": 6, "c": 9, "a": 3} and doc["forward"]["sweeps"] == 3
    both = _json(run, *LECTURE, "--mode", "both", "--no-nodes")
    assert both["forward"] == {"sweeps": 3, "gradient": {"b": 6, "c": 9, "a": 3}, "reverse_sweeps": 1}
    res = run("eval", *LECTURE, "--mode", "both")
    assert "reverse mode: 1 sweep" in res.stdout and "forward mode: 3 sweeps" in res.stdout


def test_jacobian_of_several_outputs(run) -> None:
    doc = _json(run, "u = x*y; v = x + y; w = u*v", "--x", "2", "--y", "3", "--of", "u,w")
    assert doc["outputs"] == ["u", "w"] and doc["inputs"] == ["x", "y"]
    # w = x*y*(x + y): dw/dx = 2xy + y^2 = 21, dw/dy = x^2 + 2xy = 16
    assert doc["jacobian"] == [[3, 2], [21, 16]]
    assert doc["mode"] == "reverse" and doc["sweeps"] == 2
    all_ = _json(run, "a = x^2; b = 3*x; c = a*b", "--x", "2", "--of", "all")
    assert all_["outputs"] == ["a", "b", "c"] and all_["jacobian"] == [[4], [3], [36]]
    assert all_["mode"] == "forward" and all_["sweeps"] == 1
    res = run("eval", "u = x*y; v = x + y", "--x", "2", "--y", "3", "--of", "u,v")
    assert "2 reverse sweeps (one per output); forward mode would need 2" in res.stdout
    bad = run("eval", "u = x*y; v = x + y", "--x", "2", "--y", "3", "--of", "u,nope")
    assert bad.exit_code == 2 and "nope" in bad.stderr


def test_hessian_and_hvp(run) -> None:
    doc = _json(run, "x^3*y + y^2", "--x", "2", "--y", "3", "--hessian")
    assert doc["hessian"] == {"inputs": ["x", "y"], "matrix": [[36, 12], [12, 2]], "sweeps": 2}
    assert doc["gradient"] == {"x": 36, "y": 14}
    doc = _json(run, "x^3*y + y^2", "--x", "2", "--y", "3", "--hvp", "x=1,y=-1")
    assert doc["hvp"] == {"vector": {"x": 1, "y": -1}, "product": {"x": 24, "y": 10}}
    res = run("eval", "abs(x)*y", "--x", "0", "--y", "2", "--hessian", "--json")
    assert valid(json.loads(res.stdout))["conventions"]


def test_order(run) -> None:
    doc = _json(run, "x^4 + exp(x)", "--x", "0", "--order", "5")
    assert doc["taylor"]["derivatives"] == [1, 1, 1, 1, 25, 1]
    assert doc["taylor"]["variable"] == "x"
    res = run("eval", "x*y", "--x", "1", "--y", "2", "--order", "3")
    assert res.exit_code == 2 and "--wrt" in res.stderr
    doc = _json(run, "x*y^2", "--x", "1", "--y", "2", "--order", "3", "--wrt", "y")
    assert doc["taylor"]["derivatives"] == [4, 4, 2, 0]


def test_exact(run) -> None:
    doc = _json(run, "x^3/3", "--x", "1/3", "--exact")
    assert doc["exact"] == {"value": "1/81", "gradient": {"x": "1/9"}, "bindings": {"x": "1/3"},
                            "inexact": []}
    assert doc["gradient"]["x"] == pytest.approx(1 / 9)
    res = run("eval", "J = 3*(a + b*c)", "--a", "5", "--b", "3", "--c", "2", "--exact")
    assert "∂J/∂b = 6" in res.stdout and "J = 33" in res.stdout
    res = run("eval", "0.1*x + 0.2", "-D", "x=1", "--exact")
    assert "f = 3/10" in res.stdout
    res = run("eval", "sin(x) + x", "--x", "1/2", "--exact")
    assert res.exit_code == 1 and "sin leaves the rational numbers" in res.stderr
    doc = _json(run, "u = x*x; v = sin(x) + u", "--x", "1/2", "--exact=auto")
    assert doc["exact"]["inexact"][:1] == ["x"] and "v" in doc["exact"]["inexact"]
    nodes = {n["name"]: n["exact"] for n in doc["nodes"]}
    assert nodes["u"]["value"] == "1/4"
    res = run("eval", "x^100000", "--x", "3/2", "--exact")
    assert res.exit_code == 1 and "10,000 digits" in res.stderr
    res = run("eval", "x", "--x", "1/3")  # without --exact a fraction is not a binding
    assert res.exit_code == 2


def test_options_that_do_not_combine_are_refused(run) -> None:
    for args in (["--hessian", "--order", "2"], ["--seed", "x=1"], ["--wrt", "x"],
                 ["--hessian", "--gradcheck"], ["--exact", "--mode", "forward"],
                 ["--hvp", "x"], ["--hvp", "z=1"]):
        res = run("eval", "x*x", "--x", "2", *args)
        assert res.exit_code == 2, (args, res.stdout, res.stderr)


def test_explain_forward(run) -> None:
    res = run("explain", *LECTURE, "--mode", "forward", "--seed", "b=1")
    assert res.exit_code == 0, res.stderr
    assert "ṫ(u) = ∂u/∂b · ṫ(b) + ∂u/∂c · ṫ(c) = c · 1 + b · 0 = 2 · 1 + 3 · 0 = 2" in res.stdout
    assert "ṫ(J) = 6, from 1 forward sweep" in res.stdout
    res = run("explain", *LECTURE, "--mode", "forward", "--json")
    assert res.exit_code == 2


def test_plain_eval_does_not_load_the_new_modules() -> None:
    code = ("import sys; from autodiff.cli import main; sys.argv = ['autodiff', 'eval', 'x*y', "
            "'--x', '2', '--y', '3']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('autodiff.') and m.split('.')[1] in "
            "('higher', 'rationals', 'higher_render', 'higher_cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_jacobian_per_point_of_a_batch(run, tmp_path) -> None:
    points = tmp_path / "p.ndjson"
    points.write_text('{"x": 2, "y": 3}\n{"x": 1, "y": "a"}\n\n{"x": 0.5, "y": -1}\n', encoding="utf-8")
    res = run("eval", "u = x*y; v = x/y", "--of", "u,v", "--points", str(points))
    assert res.exit_code == 1 and "1 of 3 points failed" in res.stderr
    docs = [valid(json.loads(line)) for line in res.stdout.splitlines()]
    assert [d["line"] for d in docs] == [1, 2, 4]
    assert docs[0]["jacobian"] == [[3, 2], [1 / 3, -2 / 9]]
    assert docs[1]["error"]["kind"] == "binding"
    assert docs[2]["jacobian"] == [[-1, 0.5], [-1, -0.5]]
    csv = tmp_path / "p.csv"
    csv.write_text("x,y\n2,3\n", encoding="utf-8")
    res = run("eval", "u = x*y; v = x/y", "--of", "all", "--points", str(csv), "-D", "y=4")
    assert res.exit_code == 0 and json.loads(res.stdout)["jacobian"][0] == [4, 2]
    res = run("eval", "u = x*y; v = x/y", "--of", "all", "--points", str(csv), "--format", "csv")
    assert res.exit_code == 2
