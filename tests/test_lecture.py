"""The lecture's worked example, J = 3(a + bc) at a=5, b=3, c=2, by hand:
u = bc = 6, v = a + u = 11, J = 3v = 33; dJ/dv = 3, dJ/du = 3 * 1 = 3,
dJ/da = 3 * 1 = 3, dJ/db = 3 * c = 6, dJ/dc = 3 * b = 9."""

from __future__ import annotations

import json

import autodiff

from conftest import run_json

LECTURE = "u = b*c; v = a + u; J = 3*v"
POINT = {"a": 5, "b": 3, "c": 2}


def test_lecture_numbers_through_the_library() -> None:
    r = autodiff.differentiate(LECTURE, POINT)
    assert r.output == "J"
    assert r.value == 33
    assert r.gradient == {"a": 3, "b": 6, "c": 9}
    g = r.graph
    names = g.names()
    by_name = {names[i]: i for i in range(len(g))}
    assert r.values[by_name["u"]] == 6
    assert r.values[by_name["v"]] == 11
    assert r.adjoints[by_name["v"]] == 3
    assert r.adjoints[by_name["u"]] == 3
    # local factors on the edges: du/db = c = 2, du/dc = b = 3, dv/da = dv/du = 1, dJ/dv = 3
    assert r.local_factors(by_name["u"]) == {"b": 2, "c": 3}
    assert r.local_factors(by_name["v"]) == {"a": 1, "u": 1}
    assert r.local_factors(by_name["J"]) == {"v": 3}


def test_one_line_form_has_the_same_numbers() -> None:
    r = autodiff.differentiate("J=3*(a+b*c)", POINT)
    assert (r.value, r.gradient) == (33, {"a": 3, "b": 6, "c": 9})
    assert r.graph.names() == ["3", "a", "b", "c", "t1", "t2", "J"]


def test_lecture_json(run) -> None:
    doc = run_json(run, LECTURE, "--a", "5", "--b", "3", "--c", "2")
    assert doc["output"] == "J"
    assert doc["value"] == 33
    assert doc["gradient"] == {"a": 3, "b": 6, "c": 9}
    assert doc["bindings"] == {"a": 5, "b": 3, "c": 2}
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert nodes["u"] == {"name": "u", "op": "mul", "expression": "b * c", "inputs": ["b", "c"],
                          "value": 6, "local": {"b": 2, "c": 3}, "adjoint": 3}
    assert nodes["v"]["local"] == {"a": 1, "u": 1} and nodes["v"]["adjoint"] == 3
    assert nodes["J"]["local"] == {"v": 3} and nodes["J"]["adjoint"] == 1
    assert nodes["3"] == {"name": "3", "op": "constant", "expression": "3", "inputs": [],
                          "value": 3, "local": {}, "adjoint": None}
    assert [n["name"] for n in doc["nodes"]] == ["b", "c", "a", "u", "v", "3", "J"]


def test_lecture_table_exact_text(run) -> None:
    res = run("eval", "J=3*(a+b*c)", "--a", "5", "--b", "3", "--c", "2")
    assert res.exit_code == 0
    assert res.stderr == ""
    assert res.stdout == """\
computation graph of J
┏━━━━━━┳━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┓
┃ node ┃ operation ┃ value ┃ local factors           ┃ adjoint ∂J/∂node ┃
┡━━━━━━╇━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━┩
│ a    │ input     │     5 │                         │                3 │
│ b    │ input     │     3 │                         │                6 │
│ c    │ input     │     2 │                         │                9 │
│ t1   │ b * c     │     6 │ ∂t1/∂b = 2, ∂t1/∂c = 3  │                3 │
│ t2   │ a + t1    │    11 │ ∂t2/∂a = 1, ∂t2/∂t1 = 1 │                3 │
│ J    │ 3 * t2    │    33 │ ∂J/∂t2 = 3              │                1 │
└──────┴───────────┴───────┴─────────────────────────┴──────────────────┘

gradient of J = 33:
  ∂J/∂a = 3
  ∂J/∂b = 6
  ∂J/∂c = 9
"""
    assert "\x1b" not in res.stdout  # not a terminal: no control codes


def test_jq_style_gradient_pipeline(run) -> None:
    res = run("eval", "J=3*(a+b*c)", "--a", "5", "--b", "3", "--c", "2", "--json")
    assert json.loads(res.stdout)["gradient"] == {"a": 3, "b": 6, "c": 9}
