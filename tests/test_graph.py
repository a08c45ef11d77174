"""`autodiff graph`: the lecture's tree, DOT and Mermaid, exact; DOT parsed
back (pydot) and compared with the graph; `dot -Tsvg` really run where
Graphviz is installed; Mermaid syntax; escaping; 10,000-node graphs bounded."""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import pydot
import pytest
from rich.console import Console

import autodiff
from autodiff import drawing
from autodiff.drawing import dot_escape, mermaid_escape, picture, to_dot, to_mermaid, to_tree

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot")

LECTURE = ["u = b*c; v = a + u; J = 3*v", "--a", "5", "--b", "3", "--c", "2"]

LECTURE_TREE = """\
computation graph of J = 33, from the output back to the inputs
J = 3 * v = 33   ∂J/∂J = 1
├── 3
└── v = a + u = 11   ∂J/∂v = 3   [∂J/∂v = 3]
    ├── a = 5   ∂J/∂a = 3   [∂v/∂a = 1]
    └── u = b * c = 6   ∂J/∂u = 3   [∂v/∂u = 1]
        ├── b = 3   ∂J/∂b = 6   [∂u/∂b = c = 2]
        └── c = 2   ∂J/∂c = 9   [∂u/∂c = b = 3]
∂J/∂node: the adjoint; […]: the local factor on the edge to the node above
"""

STRUCTURE_TREE = """\
computation graph of J, from the output back to the inputs
J = 3 * t2
├── 3
└── t2 = a + t1   [∂J/∂t2 = 3]
    ├── a   [∂t2/∂a = 1]
    └── t1 = b * c   [∂t2/∂t1 = 1]
        ├── b   [∂t1/∂b = c]
        └── c   [∂t1/∂c = b]
[…]: the local factor on the edge to the node above
"""

LECTURE_DOT = """\
digraph "J" {
  graph [rankdir=LR, label="computation graph of J = 33", labelloc=t, fontname="Helvetica"];
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=10];
  n0 [label="b\\nvalue = 3\\n∂J/∂b = 6", shape=ellipse, style=filled, fillcolor="#dbeafe"];
  n1 [label="c\\nvalue = 2\\n∂J/∂c = 9", shape=ellipse, style=filled, fillcolor="#dbeafe"];
  n3 [label="a\\nvalue = 5\\n∂J/∂a = 3", shape=ellipse, style=filled, fillcolor="#dbeafe"];
  n2 [label="u = b * c\\nvalue = 6\\n∂J/∂u = 3", shape=box, style="rounded,filled", fillcolor="#f3f4f6"];
  n4 [label="v = a + u\\nvalue = 11\\n∂J/∂v = 3", shape=box, style="rounded,filled", fillcolor="#f3f4f6"];
  n5 [label="3", shape=plaintext];
  n6 [label="J = 3 * v\\nvalue = 33\\n∂J/∂J = 1", shape=box, style="rounded,filled", \
fillcolor="#fef3c7", peripheries=2];
  n0 -> n2 [label="∂u/∂b = c = 2"];
  n1 -> n2 [label="∂u/∂c = b = 3"];
  n3 -> n4 [label="∂v/∂a = 1"];
  n2 -> n4 [label="∂v/∂u = 1"];
  n5 -> n6;
  n4 -> n6 [label="∂J/∂v = 3"];
}
"""

LECTURE_MERMAID = """\
flowchart LR
  n0(["b<br/>value = 3<br/>∂J/∂b = 6"])
  n1(["c<br/>value = 2<br/>∂J/∂c = 9"])
  n3(["a<br/>value = 5<br/>∂J/∂a = 3"])
  n2["u = b * c<br/>value = 6<br/>∂J/∂u = 3"]
  n4["v = a + u<br/>value = 11<br/>∂J/∂v = 3"]
  n5(("3"))
  n6[["J = 3 * v<br/>value = 33<br/>∂J/∂J = 1"]]
  n0 -->|"∂u/∂b = c = 2"| n2
  n1 -->|"∂u/∂c = b = 3"| n2
  n3 -->|"∂v/∂a = 1"| n4
  n2 -->|"∂v/∂u = 1"| n4
  n5 --> n6
  n4 -->|"∂J/∂v = 3"| n6
  classDef input fill:#dbeafe,stroke:#1e40af
  classDef constant fill:#ffffff,stroke:#9ca3af
  classDef output fill:#fef3c7,stroke:#92400e
  class n0,n1,n3 input
  class n5 constant
  class n6 output
"""


@pytest.mark.parametrize("args, want", [
    (LECTURE, LECTURE_TREE),
    (LECTURE + ["--format", "tree"], LECTURE_TREE),
    (["J=3*(a+b*c)"], STRUCTURE_TREE),
    (LECTURE + ["--format", "dot"], LECTURE_DOT),
    (LECTURE + ["--format", "mermaid"], LECTURE_MERMAID),
])
def test_lecture_graph_exact(run, args: list[str], want: str) -> None:
    res = run("graph", *args)
    assert res.exit_code == 0, res.stderr
    assert res.stdout == want
    assert res.stderr == ""


def test_lecture_tree_at_80_columns() -> None:
    r = autodiff.differentiate(LECTURE[0], dict(a=5, b=3, c=2))
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(to_tree(r.graph, r))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text == LECTURE_TREE
    assert max(len(line) for line in text.splitlines()) <= 80


def test_shared_nodes_are_drawn_once_and_referred_to() -> None:
    r = autodiff.differentiate("u = x*y; J = sin(u) + u*x", dict(x=2, y=3))
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(to_tree(r.graph, r))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.count("u = x * y = 6") == 1
    assert "u (drawn above)   [∂t2/∂u = x = 2]" in text


# ---------------------------------------------------------------- DOT parsed back


def _unquote(s: str | None) -> str | None:
    if s is None:
        return None
    assert s.startswith('"') and s.endswith('"'), s
    return re.sub(r'\\(["\\])', r"\1", s[1:-1]).replace("\\n", "\n")


def check_dot_against_graph(text: str, p: drawing.Picture) -> None:
    """Parse the DOT text and compare its nodes, edges and labels with the graph."""
    (parsed,) = pydot.graph_from_dot_data(text)
    g = p.graph
    nodes = {n.get_name(): _unquote(n.get("label")) for n in parsed.get_nodes()
             if n.get_name() not in ("graph", "node", "edge")}
    want_nodes = {f"n{i}": "\n".join(p.labels[i]) for i in p.shown}
    if p.hidden:
        want_nodes["more"] = f"{p.hidden:,} more nodes\n(--max-nodes N draws more)"
    assert nodes == want_nodes
    edges = Counter((e.get_source(), e.get_destination(), _unquote(e.get("label")))
                    for e in parsed.get_edges())
    want: Counter[tuple[str, str, str | None]] = Counter()
    shown = set(p.shown)
    for i in shown:
        if g.op[i] is None:
            continue
        for k, j in enumerate(g.args(i)):
            if j in shown:
                label = drawing.edge_label(g, p.result, i, k)
                want[(f"n{j}", f"n{i}", label or None)] += 1
    for i in p.cut:
        want[("more", f"n{i}", None)] += 1
    assert edges == want
    (defaults,) = [n for n in parsed.get_nodes() if n.get_name() == "graph"]
    assert defaults.get("rankdir") == "LR"


def random_program(rng: random.Random, n: int) -> str:
    names = ["x", "y"]
    lines = []
    for k in range(n):
        a, b = rng.choice(names), rng.choice(names)
        c = rng.choice(["-3", "1e-300", "2.5", "pi", "0.5"])
        form = rng.choice(["{a} + {b}", "{a}*{b}", "{c}*{a}", "exp({a}) / {c}", "max({a}, {b})",
                           "{a}^2", "atan2({a}, {b})", "{a} - {c}"])
        lines.append(f"s{k} = " + form.format(a=a, b=b, c=c))
        names.append(f"s{k}")
    return "; ".join(lines) + f"; J = s{n - 1} + x"


def _bindings(g: autodiff.Graph) -> dict[str, float]:
    return {v: x for v, x in {"x": 0.7, "y": -0.4}.items() if v in g.variables}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("bound", [True, False])
def test_dot_parses_back_to_the_graph(seed: int, bound: bool) -> None:
    rng = random.Random(seed)
    g = autodiff.parse(random_program(rng, rng.randint(1, 8)))
    sel = g.select(None)
    r = autodiff.evaluate(sel, _bindings(g), allowed=set(g.variables)) if bound else None
    p = picture(sel, r)
    check_dot_against_graph(to_dot(p), p)
    assert to_dot(p) == to_dot(picture(sel, r))  # deterministic


def test_dot_with_elided_nodes_parses_back() -> None:
    g = autodiff.parse("; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) * x" for k in range(40)]))
    p = picture(g.select(None), None, max_nodes=10)
    assert p.hidden == len(g) - 10
    check_dot_against_graph(to_dot(p), p)


@pytest.mark.parametrize("text", ['a"b', "back\\slash", "∂J/∂x = -3", "1e-300", "line\nbreak", "\\N"])
def test_dot_escape_round_trips(text: str) -> None:
    (parsed,) = pydot.graph_from_dot_data(f'digraph {{ n [label="{dot_escape(text)}"]; }}')
    assert _unquote(parsed.get_nodes()[0].get("label")) == text


# ---------------------------------------------------------------- Graphviz itself

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (.ci/run installs it)")


@needs_dot
def test_svg_and_png_are_rendered_by_dot(run, tmp_path) -> None:
    svg = tmp_path / "j.svg"
    res = run("graph", *LECTURE, "--format", "svg", "-o", str(svg))
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    root = ET.parse(svg).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    titles = {t.text for t in root.iterfind(".//s:g[@class='node']/s:title", ns)}
    assert titles == {f"n{i}" for i in range(7)}
    edges = {t.text for t in root.iterfind(".//s:g[@class='edge']/s:title", ns)}
    assert edges == {"n0->n2", "n1->n2", "n3->n4", "n2->n4", "n5->n6", "n4->n6"}
    texts = {t.text for t in root.iterfind(".//s:text", ns)}
    assert {"u = b * c", "∂J/∂u = 3", "∂u/∂b = c = 2"} <= texts
    png = tmp_path / "j.png"
    res = run("graph", *LECTURE, "--format", "png", "-o", str(png))
    assert res.exit_code == 0, res.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
@pytest.mark.parametrize("seed", range(4))
def test_dot_accepts_every_random_graph(seed: int) -> None:
    rng = random.Random(seed)
    g = autodiff.parse(random_program(rng, 10))
    sel = g.select(None)
    r = autodiff.evaluate(sel, _bindings(g), allowed=set(g.variables))
    proc = subprocess.run(["dot", "-Tcanon"], input=to_dot(picture(sel, r)).encode(),
                          capture_output=True, check=False)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


def test_missing_dot_says_how_to_install_it(run, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(drawing.shutil, "which", lambda name: None)
    res = run("graph", *LECTURE, "--format", "svg", "-o", str(tmp_path / "j.svg"))
    assert res.exit_code == 2
    assert res.stderr.startswith("error: --format svg needs Graphviz's `dot` program")
    assert "apt-get install graphviz" in res.stderr and "--format dot or --format mermaid" in res.stderr
    assert res.stderr.count("\n") == 1
    assert not (tmp_path / "j.svg").exists()


# ---------------------------------------------------------------- Mermaid

_M_LABEL = r'"[^"\n]*"'
_M_LINE = re.compile(
    r"  (?P<def>n\d+|more)(?:\(\[" + _M_LABEL + r"\]\)|\(\(" + _M_LABEL + r"\)\)|\[\[" + _M_LABEL
    + r"\]\]|\[" + _M_LABEL + r"\])"
    r"|  (?P<src>n\d+|more) (?:-->\|" + _M_LABEL + r"\||-->|-\.->) (?P<dst>n\d+)"
    r"|  classDef (?:input|constant|output) [a-z]+:#[0-9a-f]{6},stroke:#[0-9a-f]{6}"
    r"|  class (?P<ids>n\d+(?:,n\d+)*) (?:input|constant|output)")


def check_mermaid(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Every line is one of the statements we emit, labels never hold a raw
    quote, and every edge joins declared nodes."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    declared: set[str] = set()
    edges = []
    for line in lines[1:]:
        m = _M_LINE.fullmatch(line)
        assert m, f"not valid Mermaid for us: {line!r}"
        if m["def"]:
            assert m["def"] not in declared
            declared.add(m["def"])
        elif m["src"]:
            assert m["src"] in declared and m["dst"] in declared
            edges.append((m["src"], m["dst"]))
        elif m["ids"]:
            assert set(m["ids"].split(",")) <= declared
    return declared, edges


@pytest.mark.parametrize("seed", range(12))
def test_mermaid_syntax_and_structure(seed: int) -> None:
    rng = random.Random(seed)
    g = autodiff.parse(random_program(rng, rng.randint(1, 8)))
    sel = g.select(None)
    r = autodiff.evaluate(sel, _bindings(g), allowed=set(g.variables))
    p = picture(sel, r)
    declared, edges = check_mermaid(to_mermaid(p))
    assert declared == {f"n{i}" for i in p.shown}
    assert Counter(edges) == Counter((f"n{a}", f"n{b}") for a, b, _ in p.edges)


@pytest.mark.parametrize("text, want", [
    ('say "hi"', "say #34;hi#34;"), ("(x > 0 ? 1 : 0)", "(x #62; 0 ? 1 : 0)"), ("a|b", "a#124;b"),
    ("two\nlines", "two<br/>lines"), ("#1 & <b>", "#35;1 #38; #60;b#62;"),
])
def test_mermaid_escape(text: str, want: str) -> None:
    assert mermaid_escape(text) == want


def test_mermaid_escapes_formulas_with_comparisons(run) -> None:
    out = run("graph", "relu(x) + max(x, y)", "--format", "mermaid").stdout
    check_mermaid(out)
    assert '-->|"∂t1/∂x = (x #62; 0 ? 1 : 0)"|' in out


# ---------------------------------------------------------------- size and options

# (t0 = x is an alias node of its own)
BIG = "; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) * t{k} + x" for k in range(3333)])  # 10,001 nodes


@pytest.mark.parametrize("fmt, bindings", [("tree", ["--x", "0.5"]), ("tree", []),
                                           ("dot", ["--x", "0.5"]), ("mermaid", [])])
def test_10000_node_graph_is_bounded(run, fmt: str, bindings: list[str]) -> None:
    res = run("graph", BIG, *bindings, "--format", fmt)
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) < 700, len(lines)
    if fmt == "tree":
        assert max(len(x) for x in lines) <= 80
        note = " ".join(x.strip() for x in lines[-2:])
        assert re.fullmatch(r"9,9\d\d of 10,001 nodes not drawn \(limits: (--max-nodes 200, )?"
                            r"--max-depth 12\); --max-nodes 0 \(and a larger --max-depth\) draws all",
                            note), note
    else:
        assert "9,801 more nodes" in res.stdout
    if fmt == "dot":  # (pydot takes seconds on this; the elided structure is checked above)
        assert len(re.findall(r"^  n\d+ \[label=", res.stdout, re.M)) == 200
        assert res.stdout.count("\n  more [label=") == 1


def test_max_nodes_zero_draws_every_node(run) -> None:
    program = "; ".join(["t0 = x"] + [f"t{k + 1} = sin(t{k}) * x" for k in range(150)])
    out = run("graph", program, "--format", "dot", "--max-nodes", "0").stdout
    assert len(re.findall(r"^  n\d+ \[label=", out, re.M)) == len(autodiff.parse(program)) == 302
    assert "more nodes" not in out


def test_output_file(run, tmp_path) -> None:
    for fmt in ("dot", "mermaid", "tree"):
        f = tmp_path / f"g.{fmt}"
        res = run("graph", *LECTURE, "--format", fmt, "-o", str(f))
        assert res.exit_code == 0 and res.stdout == ""
        want = {"dot": LECTURE_DOT, "mermaid": LECTURE_MERMAID, "tree": LECTURE_TREE}[fmt]
        assert f.read_text(encoding="utf-8") == want


@pytest.mark.parametrize("args, words", [
    (["--format", "svgz"], "unknown format 'svgz' for graph: choose tree, dot, mermaid, svg, png or html"),
    (["--format", "svg"], "--format svg writes a file: add -o FILE (for example -o graph.svg)"),
    (["--format", "png"], "--format png writes a file: add -o FILE"),
    (["--d", "1"], "a value was given for d, but the program does not use d"),
])
def test_usage_errors(run, args: list[str], words: str) -> None:
    res = run("graph", *LECTURE, *args)
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert words in res.stderr


def test_an_unwritable_output_file_is_an_output_error(run) -> None:
    res = run("graph", *LECTURE, "--format", "dot", "-o", "/nonexistent-dir/g.dot")
    assert res.exit_code == 74 and res.stdout == ""
    assert res.stderr == "error: cannot write /nonexistent-dir/g.dot: No such file or directory\n"


def test_evaluation_error_exits_1(run) -> None:
    res = run("graph", "log(x)", "--x", "-1")
    assert res.exit_code == 1 and "node f = log(x)" in res.stderr


def test_partial_bindings_are_an_error_not_a_silent_structure(run) -> None:
    res = run("graph", "J=3*(a+b*c)", "--a", "1")
    assert res.exit_code == 2 and "no value for the variables b, c" in res.stderr


def test_of_selects_the_output(run) -> None:
    out = run("graph", *LECTURE, "--of", "u", "--format", "dot").stdout
    assert 'digraph "u"' in out and "n4" not in out


def test_help_texts(run) -> None:
    for cmd, words in [("graph", ["--format", "tree", "dot", "mermaid", "svg", "png", "-o, --output",
                                  "--max-nodes", "--max-depth", "-D, --set", "--of", "--digits",
                                  "Exit codes"]),
                       ("explain", ["--format", "markdown", "latex", "--json", "--paths", "--max-paths",
                                    "--max-nodes", "-D, --set", "--of", "--digits", "Exit codes"])]:
        res = run(cmd, "--help")
        assert res.exit_code == 0
        for w in words:
            assert w in res.stdout, (cmd, w)
    assert "graph" in run("--help").stdout and "explain" in run("--help").stdout


def test_readme_mermaid_block_is_real_output(run) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```mermaid\n(.*?)```", readme, re.S)
    assert block == run("graph", *LECTURE, "--format", "mermaid").stdout == LECTURE_MERMAID


def test_conventions_are_marked(run) -> None:
    out = run("graph", "abs(x) + relu(x)*y", "--x", "0", "--y", "2").stdout
    assert "├── t1 = abs(x) = 0   ∂f/∂t1 = 1 †   [∂f/∂t1 = 1]\n" in out
    assert out.endswith("† conventions where a derivative does not exist (as in PyTorch):\n"
                        "  t1: abs'(0) = 0\n  t2: relu'(0) = 0\n")
    dot = run("graph", "abs(x)", "--x", "0", "--format", "dot").stdout
    assert 'label="f = abs(x)\\nvalue = 0\\n∂f/∂f = 1\\n† abs\'(0) = 0"' in dot


def test_digits_round_every_number(run) -> None:
    out = run("graph", "x/3", "--x", "1", "--digits", "3", "--format", "dot").stdout
    assert 'label="computation graph of f = 0.333"' in out
    assert '[label="∂f/∂x = 1/3 = 0.333"]' in out
    assert "0.3333" not in out


@needs_dot
def test_svg_to_stdout_with_dash(run) -> None:
    res = run("graph", "x*2", "--format", "svg", "-o", "-")
    assert res.exit_code == 0
    assert ET.fromstring(res.stdout_bytes).tag == "{http://www.w3.org/2000/svg}svg"
