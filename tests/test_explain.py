"""`autodiff explain`: the lecture's narration, exact; sums over uses; paths
whose sum equals the adjoint on random DAGs; bounded output on large graphs."""

from __future__ import annotations

import json
import math
import random
import re

import pytest

import autodiff
from autodiff.explain import count_paths, count_text, explain, explain_latex, explain_text, iter_paths

LECTURE = ["u = b*c; v = a + u; J = 3*v", "--a", "5", "--b", "3", "--c", "2"]

LECTURE_TEXT = """\
How autodiff computes J = 33 and its gradient

Forward pass: each node's value, in evaluation order
  b = 3
  c = 2
  a = 5
  u = b·c = 3·2 = 6
  v = a + u = 5 + 6 = 11
  J = 3·v = 3·11 = 33

Backward pass: each adjoint ∂J/∂node, from the output back
  ∂J/∂J = 1
  ∂J/∂v = 3
  ∂J/∂a = ∂J/∂v · ∂v/∂a = 3 · 1 = 3
  ∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3
  ∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6
      where ∂u/∂b = c = 2
  ∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9
      where ∂u/∂c = b = 3
"""

LECTURE_PATHS = """
Paths from b to J (1 path)
  b → u → v → J: ∂u/∂b · ∂v/∂u · ∂J/∂v = 2 · 1 · 3 = 6
  sum over the paths = 6 = ∂J/∂b

Paths from c to J (1 path)
  c → u → v → J: ∂u/∂c · ∂v/∂u · ∂J/∂v = 3 · 1 · 3 = 9
  sum over the paths = 9 = ∂J/∂c

Paths from a to J (1 path)
  a → v → J: ∂v/∂a · ∂J/∂v = 1 · 3 = 3
  sum over the paths = 3 = ∂J/∂a

Why reverse mode
  Reverse mode never lists the paths: each node's adjoint is the sum, over its
  uses, of the user's adjoint times one local factor, so one sweep over the
  edges adds up every path at once.
"""

LECTURE_MARKDOWN = """\
## How autodiff computes `J = 33` and its gradient

### Forward pass: each node's value, in evaluation order

- `b = 3`
- `c = 2`
- `a = 5`
- `u = b·c = 3·2 = 6`
- `v = a + u = 5 + 6 = 11`
- `J = 3·v = 3·11 = 33`

### Backward pass: each adjoint ∂J/∂node, from the output back

- `∂J/∂J = 1`
- `∂J/∂v = 3`
- `∂J/∂a = ∂J/∂v · ∂v/∂a = 3 · 1 = 3`
- `∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3`
- `∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6` where `∂u/∂b = c = 2`
- `∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9` where `∂u/∂c = b = 3`
"""

LECTURE_LATEX = r"""% autodiff explain: J = 33
\paragraph{Forward pass} each node's value, in evaluation order.
\begin{align*}
b &= 3 \\
c &= 2 \\
a &= 5 \\
u &= b \cdot c = 3 \cdot 2 = 6 \\
v &= a + u = 5 + 6 = 11 \\
J &= 3 \cdot v = 3 \cdot 11 = 33
\end{align*}
\paragraph{Backward pass} each adjoint $\frac{\partial J}{\partial \mathit{node}}$, from the output back.
\begin{align*}
\frac{\partial J}{\partial J} &= 1 \\
\frac{\partial J}{\partial v} &= 3 \\
\frac{\partial J}{\partial a} &= \frac{\partial J}{\partial v} \cdot \frac{\partial v}{\partial a} = 3 \cdot 1 = 3 \\
\frac{\partial J}{\partial u} &= \frac{\partial J}{\partial v} \cdot \frac{\partial v}{\partial u} = 3 \cdot 1 = 3 \\
\frac{\partial J}{\partial b} &= \frac{\partial J}{\partial u} \cdot \frac{\partial u}{\partial b} = 3 \cdot 2 = 6 && \text{where } \frac{\partial u}{\partial b} = c = 2 \\
\frac{\partial J}{\partial c} &= \frac{\partial J}{\partial u} \cdot \frac{\partial u}{\partial c} = 3 \cdot 3 = 9 && \text{where } \frac{\partial u}{\partial c} = b = 3
\end{align*}
"""  # noqa: E501


@pytest.mark.parametrize("extra, want", [
    ([], LECTURE_TEXT),
    (["--format", "text"], LECTURE_TEXT),
    (["--paths"], LECTURE_TEXT + LECTURE_PATHS),
    (["--format", "markdown"], LECTURE_MARKDOWN),
    (["--format", "latex"], LECTURE_LATEX),
])
def test_lecture_explanation_exact(run, extra: list[str], want: str) -> None:
    res = run("explain", *LECTURE, *extra)
    assert res.exit_code == 0, res.stderr
    assert res.stdout == want
    assert res.stderr == ""


def test_lecture_lines_from_the_issue(run) -> None:
    out = run("explain", *LECTURE).stdout
    for line in ["u = b·c = 3·2 = 6", "∂J/∂v = 3", "∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3",
                 "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6", "∂u/∂b = c = 2"]:
        assert line in out


def test_lines_fit_80_columns(run) -> None:
    out = run("explain", *LECTURE, "--paths").stdout
    assert max(len(line) for line in out.splitlines()) <= 80


def test_one_line_form_uses_generated_names(run) -> None:
    out = run("explain", "J=3*(a+b*c)", "--a", "5", "--b", "3", "--c", "2").stdout
    for line in ["  t1 = b·c = 3·2 = 6", "  t2 = a + t1 = 5 + 6 = 11", "  J = 3·t2 = 3·11 = 33",
                 "  ∂J/∂t2 = 3", "  ∂J/∂t1 = ∂J/∂t2 · ∂t2/∂t1 = 3 · 1 = 3",
                 "  ∂J/∂b = ∂J/∂t1 · ∂t1/∂b = 3 · 2 = 6", "      where ∂t1/∂b = c = 2"]:
        assert line + "\n" in out


@pytest.mark.parametrize("program, bindings, line, where", [
    # x feeds u and v: its adjoint is the sum over both uses, written out
    ("u = x*y; v = x + y; J = u + 5*v", ["--x", "2", "--y", "1"],
     "∂J/∂x = ∂J/∂u · ∂u/∂x + ∂J/∂v · ∂v/∂x = 1 · 1 + 5 · 1 = 1 + 5 = 6", "where ∂u/∂x = y = 1"),
    ("u = 2*x; v = 5*x; J = u + v", ["--x", "1"],
     "∂J/∂x = ∂J/∂u · ∂u/∂x + ∂J/∂v · ∂v/∂x = 1 · 2 + 1 · 5 = 2 + 5 = 7", None),
    # a use by the output itself is its local factor alone
    ("x*y + x", ["--x", "2", "--y", "5"], "∂f/∂x = ∂f/∂t1 · ∂t1/∂x + 1 = 1 · 5 + 1 = 5 + 1 = 6",
     "where ∂t1/∂x = y = 5"),
    # x*x: one use whose local factor sums both edges
    ("x*x", ["--x", "3"], "∂f/∂x = x + x = 6", None),
    ("u = x^3; J = exp(u)", ["--x", "1"], "∂J/∂x = ∂J/∂u · ∂u/∂x = 2.718281828459045 · 3 = "
     "8.154845485377136", "where ∂u/∂x = 3*x^(3-1) = 3"),
    ("J = exp(v)", ["--v", "0"], "∂J/∂v = exp(v) = 1", None),
    ("J = -3*v", ["--v", "2"], "∂J/∂v = -3", None),
    ("u = a/b; J = u - b", ["--a", "1", "--b", "-2"],
     "∂J/∂b = ∂J/∂u · ∂u/∂b + (-1) = 1 · (-0.25) + (-1) = (-0.25) + (-1) = -1.25",
     "where ∂u/∂b = -a/b^2 = -0.25"),
])
def test_backward_lines(run, program: str, bindings: list[str], line: str, where) -> None:
    out = run("explain", program, *bindings).stdout
    assert f"  {line}\n" in out, out
    if where:
        assert f"      {where}\n" in out


def test_json_has_the_same_steps(run) -> None:
    res = run("explain", *LECTURE, "--json", "--paths")
    doc = json.loads(res.stdout)
    assert list(doc) == ["schema", "output", "value", "gradient", "forward", "backward", "paths"]
    assert (doc["output"], doc["value"], doc["gradient"]) == ("J", 33, {"b": 6, "c": 9, "a": 3})
    assert doc["forward"][3] == {"node": "u", "op": "mul", "expression": "b·c", "substituted": "3·2",
                                 "value": 6}
    assert [s["node"] for s in doc["backward"]] == ["J", "v", "a", "u", "b", "c"]
    assert doc["backward"][4] == {"node": "b", "adjoint": 6, "terms": [
        {"user": "u", "user_adjoint": 3, "local": 2, "formula": "c", "product": 6}]}
    assert doc["paths"]["b"] == {"count": 1, "shown": [{"nodes": ["b", "u", "v", "J"],
                                                        "factors": [2, 1, 3], "product": 6}],
                                 "complete": True, "sum": 6, "adjoint": 6}
    # the adjoints agree with autodiff eval's
    ev = json.loads(run("eval", *LECTURE, "--json").stdout)
    adjoints = {n["name"]: n["adjoint"] for n in ev["nodes"]}
    assert {s["node"]: s["adjoint"] for s in doc["backward"]} == {
        k: v for k, v in adjoints.items() if v is not None}


def test_backward_order_puts_each_node_after_all_its_users() -> None:
    r = autodiff.differentiate("u = x*y; v = sin(u) + x; w = v*u*y; J = w + v", dict(x=0.3, y=2))
    ex = explain(r)
    position = {s.node: k for k, s in enumerate(ex.backward)}
    for s in ex.backward:
        for t in s.terms:
            assert position[t.user] < position[s.node]
        assert math.isclose(sum(t.product for t in s.terms) if s.terms else 1.0, s.adjoint)


def test_constant_output_has_no_backward_pass(run) -> None:
    res = run("explain", "J = 3*4")
    assert res.exit_code == 0
    assert "  J = 3·4 = 12\n" in res.stdout
    assert "J does not depend on any variable" in res.stdout


@pytest.mark.parametrize("args, code, words", [
    (["J=3*(a+b*c)"], 2, ["no value for the variables a, b, c"]),
    (["J=3*(a+b*c)", "--a", "1", "--b", "2", "--c", "3", "--format", "pdf"], 2,
     ["unknown format 'pdf' for explain"]),
    (["log(x)", "--x", "-1"], 1, ["node f = log(x)"]),
    (["x +", "--x", "1"], 2, ["line 1, column 4"]),
    (["--x", "1", "x"], 2, ["the program comes first"]),
])
def test_errors(run, args: list[str], code: int, words: list[str]) -> None:
    res = run("explain", *args)
    assert res.exit_code == code
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") <= 4
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr


def test_json_error(run) -> None:
    res = run("explain", "log(x)", "--x", "0", "--json")
    assert res.exit_code == 1
    assert json.loads(res.stdout)["error"]["kind"] == "domain"


# ---------------------------------------------------------------- paths


def random_program(rng: random.Random, n: int) -> tuple[str, dict[str, float]]:
    """A random DAG: each statement combines earlier names, so nodes are
    shared and paths multiply."""
    variables = ["x", "y", "z"][: rng.randint(1, 3)]
    names = list(variables)
    lines = []
    for k in range(n):
        a, b = rng.choice(names), rng.choice(names)
        form = rng.choice(["{a} + {b}", "{a} - {b}", "{a}*{b}", "sin({a})", "tanh({a}) * {b}",
                           "0.5*{a} + cos({b})", "{a}*{a}", "{a} / (2 + {b}^2)"])
        lines.append(f"s{k} = " + form.format(a=a, b=b))
        names.append(f"s{k}")
    lines.append("J = " + " + ".join(rng.sample(names[-4:], min(3, len(names[-4:])))))
    return "; ".join(lines), {v: rng.uniform(-1.0, 1.0) for v in variables}


@pytest.mark.parametrize("seed", range(40))
def test_paths_sum_to_the_adjoint_on_random_dags(seed: int) -> None:
    rng = random.Random(seed)
    program, bindings = random_program(rng, rng.randint(2, 9))
    g = autodiff.parse(program)
    bindings = {v: x for v, x in bindings.items() if v in g.variables}
    r = autodiff.evaluate(g.select(None), bindings, allowed=set(g.variables))
    ex = explain(r, paths=True, max_paths=10_000)
    assert ex.paths is not None
    grad = r.gradient
    assert {ps.name for ps in ex.paths} == set(grad)
    for ps in ex.paths:
        assert ps.complete, (program, ps.count)
        assert len(ps.shown) == ps.count
        assert len({tuple(p.nodes) for p in ps.shown}) == ps.count  # all distinct
        for p in ps.shown:
            assert p.nodes[0] == ps.variable and p.nodes[-1] == r.graph.output
            assert math.isclose(p.product, math.prod(p.factors), rel_tol=1e-12, abs_tol=0.0)
        assert math.isclose(ps.total, grad[ps.name], rel_tol=1e-9, abs_tol=1e-12), (program, bindings)


def test_path_count_by_dynamic_programming_is_exact() -> None:
    # t_{k+1} = sin(t_k) + cos(t_k): two ways through each level, 2^50 paths
    n = 50
    program = "; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) + cos(t{k})" for k in range(n)])
    r = autodiff.differentiate(program, dict(x=0.3))
    ex = explain(r, paths=True, max_paths=20)
    assert ex.paths is not None
    (ps,) = ex.paths
    assert ps.count == 2**n and len(ps.shown) == 20 and not ps.complete
    text = explain_text(ex)
    assert "Paths from x to t50 (2^50 paths)" in text
    assert "showing 20 of 2^50 paths (--max-paths N shows more)" in text
    assert "Reverse mode never lists the paths" in text
    # small levels: enumeration agrees with the count
    r = autodiff.differentiate("; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) + cos(t{k})"
                                                     for k in range(6)]), dict(x=0.3))
    ex = explain(r, paths=True, max_paths=1000)
    assert ex.paths is not None and ex.paths[0].count == 64 == len(ex.paths[0].shown)


def test_iter_paths_and_count_paths_directly() -> None:
    g = autodiff.parse("u = x*y; v = x + u; J = u*v")
    users = explain(autodiff.evaluate(g, dict(x=1, y=2))).users
    x = g.variables["x"]
    counts = count_paths(g, users)
    names = g.names()
    paths = [[names[i] for i in p] for p in iter_paths(g, users, x, 100)]
    assert paths == [["x", "u", "v", "J"], ["x", "u", "J"], ["x", "v", "J"]]
    assert counts[x] == 3
    assert iter_paths(g, users, x, 2) == iter_paths(g, users, x, 100)[:2]


@pytest.mark.parametrize("n, text", [
    (1, "1"), (20, "20"), (1_048_576, "1,048,576"), (2**50, "2^50"), (3**40, "about 1.2 × 10^19"),
    (2**100_000 + 1, "about 1.0 × 10^30103"), (10**7 - 1, "9,999,999"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_count_text(n: int, text: str) -> None:
    assert count_text(n) == text


# ---------------------------------------------------------------- size


def test_10000_node_graph_is_bounded(run) -> None:
    program = "; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) * t{k} + x" for k in range(3333)])
    res = run("explain", program, "--x", "0.5", "--paths", "--max-nodes", "100")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) <= 10 + 100 + 2 * 100 + 30  # forward, backward with "where" lines, paths
    assert any(re.fullmatch(r"  ⋮ 9,9\d\d more nodes not shown \(--max-nodes N shows more\)", x)
               for x in lines)
    assert "showing 20 of " in res.stdout
    paths = [x for x in lines if x.startswith("  x → ")]
    assert len(paths) == 20
    assert all(len(x) < 200 and "more) →" in x for x in paths)  # 3,000-step paths are elided
    assert max(len(x) for x in lines) < 1000  # at most 8 terms of a sum are written


def test_deep_nesting_needs_no_recursion() -> None:
    n = 5_000  # beyond Python's recursion limit (1,000)
    r = autodiff.differentiate("sin(" * n + "x" + ")" * n, dict(x=0.5))
    ex = explain(r, paths=True)
    assert ex.paths is not None and ex.paths[0].count == 1
    assert math.isclose(ex.paths[0].total, r.gradient["x"], rel_tol=1e-9)
    assert len(explain_text(ex, max_steps=50).splitlines()) <= 10 + 50 + 2 * 50 + 30
    assert explain_latex(ex, max_steps=50).count("\\\\\n") < 120


def test_latex_is_balanced() -> None:
    r = autodiff.differentiate("u = x_1^y; w = log(u, 2) + atan2(u, -3) + 1e-300*u; J = max(w, x_1)",
                               dict(x_1=1.5, y=2))
    tex = explain_latex(explain(r, paths=True))
    body = tex.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}")
    assert r"\mathit{x\_1}" not in tex and "x_{1}" in tex
    assert r"10^{-300}" in tex and r"\log" in tex and r"\operatorname{atan2}" in tex


def test_conventions_are_said_where_a_derivative_does_not_exist(run) -> None:
    out = run("explain", "abs(x) + relu(x)*y", "--x", "0", "--y", "2").stdout
    assert "      where ∂t1/∂x = sign(x) = 0 († abs'(0) = 0, as in PyTorch)\n" in out
    assert "        and ∂t2/∂x = (x > 0 ? 1 : 0) = 0 († relu'(0) = 0, as in PyTorch)\n" in out
    doc = json.loads(run("explain", "abs(x)", "--x", "0", "--json").stdout)
    assert doc["backward"][1]["terms"][0]["conventions"] == ["abs'(0) = 0"]


def test_output_that_is_a_variable(run) -> None:
    out = run("explain", "x", "--x", "2", "--paths").stdout
    assert "  x = 2\n" in out
    assert "  x is the output itself: the empty product = 1\n  sum over the paths = 1 = ∂f/∂x\n" in out


@pytest.mark.parametrize("program", ["J = x", "u = x; J = u"])
def test_a_name_given_to_a_variable_is_its_own_node(run, program: str) -> None:
    out = run("explain", program, "--x", "2", "--paths").stdout
    assert "  x = 2\n" in out and "  J = " in out
    assert "  sum over the paths = 1 = ∂J/∂x\n" in out


def test_digits(run) -> None:
    out = run("explain", "u = x/3; J = u*u", "--x", "1", "--digits", "3").stdout
    assert "  u = x / 3 = 1 / 3 = 0.333\n" in out
    assert "  ∂J/∂x = ∂J/∂u · ∂u/∂x = 0.667 · 0.333 = 0.222\n" in out
    assert "      where ∂u/∂x = 1/3 = 0.333\n" in out


@pytest.mark.parametrize("args", [
    LECTURE + ["--paths"],
    ["abs(x) + relu(x)*y", "--x", "0", "--y", "2", "--paths"],
    ["J = x", "--x", "1", "--paths"],
    ["J = 3*pi"],
    ["; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) + cos(t{k})" for k in range(60)]), "--x", "0.3",
     "--paths", "--max-paths", "2"],
])
def test_json_matches_its_schema(run, args: list[str]) -> None:
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "schema" / "explain.schema.json")
                        .read_text(encoding="utf-8"))
    doc = json.loads(run("explain", *args, "--json").stdout)
    jsonschema.validate(doc, schema)
    for ps in doc.get("paths", {}).values():
        assert (ps["sum"] is None) == (not ps["complete"])
