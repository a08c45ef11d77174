"""The streamed JSON writer (used for --json --no-nodes, where a result may hold
a 1e6-variable gradient) writes exactly the text of the dict-based one."""

from __future__ import annotations

import json

import pytest

import autodiff
from autodiff.render import dumps, iter_result_json, result_dict


@pytest.mark.parametrize("program, point", [
    ("J=3*(a+b*c)", {"a": 5, "b": 3, "c": 2}),
    ("J = 2*pi", {}),
    ("x*y", {"x": -0.0, "y": 1.0}),
    ("x/3 + 1e-300*y", {"x": 1.0, "y": 2.5}),
    ("u = x*x; v = y + 1; u", {"x": 1e200 ** 0.5, "y": 7}),
    ("x^2", {"x": 2 ** 60}),
])
def test_streamed_json_is_byte_identical(program, point) -> None:
    r = autodiff.differentiate(program, point)
    streamed = "".join(iter_result_json(r))
    assert streamed == dumps(result_dict(r, nodes=False))
    assert json.loads(streamed)["value"] == r.value


@pytest.mark.parametrize("program, point", [
    ("J=3*(a+b*c)", {"a": 5, "b": 3, "c": 2}),
    ("J = 2*pi", {}),
    ("J = 7", {}),
    ("x*y", {"x": -0.0, "y": 1.0}),
    ("x/3 + 1e-300*y", {"x": 1.0, "y": 2.5}),
    ("u = x*x; v = y + 1; u", {"x": 1e200 ** 0.5, "y": 7}),
    ("relu(x) + abs(y) + max(x, y) + atan2(y, x + 1)", {"x": 0.0, "y": 0.0}),
    ("z = hypot(x, y); J = log(z, 2) + sigmoid(z)*1e-320", {"x": 3, "y": 4}),
    ("x^2", {"x": 2 ** 60}),
])
def test_streamed_json_with_nodes_is_byte_identical(program, point) -> None:
    # --json with the node trace: the streaming writer replaces the indenting
    # encoder (1e6 nodes took minutes); the text must not change.
    r = autodiff.differentiate(program, point)
    streamed = "".join(iter_result_json(r, nodes=True))
    assert streamed == dumps(result_dict(r, nodes=True))
    assert streamed == json.dumps(result_dict(r, nodes=True), indent=2, ensure_ascii=False)


@pytest.mark.parametrize("nodes", [False, True])
def test_streamed_json_with_a_gradcheck_is_byte_identical(nodes) -> None:
    from autodiff.gradcheck import gradcheck, gradcheck_dict

    r = autodiff.differentiate("sqrt(x)*y + relu(y)", {"x": 1e-7, "y": 0.0})
    checks = gradcheck_dict(gradcheck(r))
    doc = result_dict(r, nodes=nodes)
    node_list = doc.pop("nodes", None)
    doc["gradcheck"] = checks
    if node_list is not None:
        doc["nodes"] = node_list
    assert "".join(iter_result_json(r, nodes=nodes, gradcheck=checks)) == dumps(doc)


def test_a_compact_document_is_one_line_like_a_batch_record() -> None:
    from autodiff.errors import BindingError
    from autodiff.render import error_dict

    doc = error_dict(BindingError("no value for the variable c", "c"))
    assert dumps(doc, indent=None) == ('{"schema":1,"error":{"kind":"binding","message":'
                                       '"no value for the variable c","name":"c"}}')


def test_eval_json_with_nodes_prints_the_streamed_text(run) -> None:
    res = run("eval", "u = b*c; v = a + u; J = 3*relu(v)", "--a", "5", "--b", "3", "--c", "2",
              "--json")
    r = autodiff.differentiate("u = b*c; v = a + u; J = 3*relu(v)", {"a": 5, "b": 3, "c": 2})
    assert res.stdout == dumps(result_dict(r)) + "\n"
