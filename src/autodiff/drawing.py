"""Pictures of the computation graph: Graphviz DOT, a Mermaid flowchart, and a
Rich tree for the terminal. Pure functions: a graph (and, when the variables
were bound, its evaluation) in, text or a renderable out.

Every node is a variable, a constant or an operation; its label gives its
name and operation, and with an evaluation its value and adjoint ∂J/∂node.
Each edge from a node that depends on a variable carries its local factor,
in the program's names (``∂u/∂b = c``) and, with an evaluation, as a number
(``∂u/∂b = c = 2``). DOT and Mermaid lay the graph out left to right, inputs
on the left and the output on the right, as on the lecture's board.

Large graphs are bounded: `max_nodes` keeps the nodes nearest the output
(breadth first from it) and draws one "more nodes" box for the rest. Nothing
recurses over the graph.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import deque
from dataclasses import dataclass
from typing import Optional

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from .errors import InputError
from .evaluate import Result
from .graph import Graph
from .numfmt import format_number
from .ops import formula_for

__all__ = ["Picture", "picture", "to_dot", "to_mermaid", "to_tree", "render_with_dot", "dot_escape",
           "mermaid_escape", "DotMissing"]


class DotMissing(InputError):
    """SVG or PNG was asked for, but Graphviz's `dot` program is not installed."""

    kind = "missing_tool"


@dataclass
class Picture:
    """What every drawing shows, computed once: which nodes, their labels, the
    edges with their labels."""

    graph: Graph
    result: Optional[Result]
    shown: list[int]  # node indices drawn, in display order (variables first)
    hidden: int  # nodes of the output's graph not drawn
    #: node index -> label lines
    labels: dict[int, list[str]]
    #: (from, to, label) for every edge between drawn nodes, in evaluation order
    edges: list[tuple[int, int, str]]
    #: drawn nodes with an argument that is not drawn
    cut: list[int]
    digits: Optional[int] = None

    @property
    def output(self) -> int:
        return self.graph.output

    def kind(self, i: int) -> str:
        kind = self.graph.kind(i)
        return "output" if i == self.graph.output else kind


def _near_output(g: Graph, limit: Optional[int]) -> tuple[bytearray, int]:
    """The nodes the output depends on, breadth first from it, at most
    `limit` of them; and how many nodes of the output's graph are left out."""
    keep = bytearray(len(g.op))
    seen = bytearray(len(g.op))
    seen[g.output] = 1
    queue = deque([g.output])
    kept = total = 0
    while queue:
        i = queue.popleft()
        total += 1
        if limit is None or kept < limit:
            keep[i] = 1
            kept += 1
        for j in g.args(i):
            if not seen[j]:
                seen[j] = 1
                queue.append(j)
    return keep, total - kept


def edge_label(g: Graph, result: Optional[Result], i: int, k: int, digits: Optional[int] = None,
               names: Optional[list[str]] = None) -> str:
    """The local factor on the edge into node i from its argument k:
    ``∂u/∂b = c = 2`` (``∂u/∂b = c`` without an evaluation); "" for an edge
    from a node that does not depend on a variable."""
    names = names if names is not None else g.names()
    op = g.op[i]
    assert op is not None
    args = g.args(i)
    j = args[k]
    if not g.active[j]:
        return ""
    head = f"∂{names[i]}/∂{names[j]}"
    formula = formula_for(op, k, [names[a] for a in args])
    if result is None or not result.local or result.local[i] is None:
        return f"{head} = {formula}"
    factors = result.local[i]
    assert factors is not None
    d = factors[k]
    if d is None:
        return f"{head} = {formula}"
    number = format_number(d, digits)
    return f"{head} = {number}" if formula == number else f"{head} = {formula} = {number}"


def picture(graph: Graph, result: Optional[Result] = None, *, digits: Optional[int] = None,
            max_nodes: Optional[int] = None) -> Picture:
    """The drawing's content: labels for the nodes nearest the output (at most
    `max_nodes`), and the edges between them with their local factors."""
    g = result.graph if result is not None else graph
    names = g.names()
    keep, hidden = _near_output(g, max_nodes)
    out_name = g.output_name
    order = [i for i in g.variables.values() if keep[i]]
    order += [i for i in range(g.output + 1) if keep[i] and g.kind(i) != "input"]
    labels: dict[int, list[str]] = {}
    for i in order:
        op = g.op[i]
        lines = [names[i] if op is None else f"{names[i]} = {g.expression(i, names)}"]
        if result is not None and not result.was_evaluated(i):
            lines.append("not evaluated")  # a branch `where` did not take
        elif result is not None:
            if not g.is_literal(i):
                lines.append(f"value = {format_number(result.values[i], digits)}")
            if g.active[i]:
                lines.append(f"∂{out_name}/∂{names[i]} = {format_number(result.adjoints[i], digits)}")
            lines += [f"† {note}" for note in result.conventions.get(i, [])]
        labels[i] = lines
    edges: list[tuple[int, int, str]] = []
    cut: list[int] = []
    for i in range(g.output + 1):
        if not keep[i] or g.op[i] is None:
            continue
        for k, j in enumerate(g.args(i)):
            if keep[j]:
                edges.append((j, i, edge_label(g, result, i, k, digits, names)))
            elif not cut or cut[-1] != i:
                cut.append(i)
    return Picture(g, result, order, hidden, labels, edges, cut, digits)


# ---------------------------------------------------------------- DOT


def dot_escape(text: str) -> str:
    """A DOT double-quoted string's content: backslashes and quotes escaped,
    new lines as \\n (DOT's own escapes such as \\N cannot be triggered)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")


_DOT_SHAPE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#dbeafe"',
    "constant": 'shape=plaintext',
    "operation": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"',
    "output": 'shape=box, style="rounded,filled", fillcolor="#fef3c7", peripheries=2',
}


def to_dot(p: Picture) -> str:
    """Graphviz DOT, left to right; node ids n0, n1, ... are the node indices,
    so the same program always gives the same text."""
    g = p.graph
    title = f"computation graph of {g.output_name}"
    if p.result is not None:
        title += f" = {format_number(p.result.value, p.digits)}"
    lines = [
        f'digraph "{dot_escape(g.output_name)}" {{',
        f'  graph [rankdir=LR, label="{dot_escape(title)}", labelloc=t, fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    calls: dict[str, list[int]] = {}  # a user function's call: its nodes, drawn in a cluster
    for i in p.shown:
        label = dot_escape("\n".join(p.labels[i]))
        call = g.clusters.get(i)
        if call is not None:
            calls.setdefault(call, []).append(i)
            continue
        lines.append(f'  n{i} [label="{label}", {_DOT_SHAPE[p.kind(i)]}];')
    for k, (call, members) in enumerate(calls.items()):
        lines.append(f'  subgraph cluster_{k} {{')
        lines.append(f'    label="{dot_escape(call)}"; style=dashed;')
        for i in members:
            label = dot_escape("\n".join(p.labels[i]))
            lines.append(f'    n{i} [label="{label}", {_DOT_SHAPE[p.kind(i)]}];')
        lines.append("  }")
    if p.hidden:
        lines.append(f'  more [label="{p.hidden:,} more nodes\\n(--max-nodes N draws more)", '
                     'shape=note, style=dashed];')
    for a, b, label in p.edges:
        attr = f' [label="{dot_escape(label)}"]' if label else ""
        lines.append(f"  n{a} -> n{b}{attr};")
    for i in p.cut:
        lines.append(f"  more -> n{i} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_with_dot(dot_text: str, fmt: str, *, timeout: float = 120.0) -> bytes:
    """Run Graphviz's `dot -T<fmt>` on the DOT text (an argument list, never
    a shell) and return its output."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotMissing(f"--format {fmt} needs Graphviz's `dot` program, which is not installed: "
                         "install Graphviz (apt-get install graphviz, brew install graphviz, or "
                         "https://graphviz.org/download/), or write --format dot or --format mermaid "
                         "and render that elsewhere")
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"dot did not finish within {timeout:g} seconds; draw fewer nodes "
                         "(--max-nodes N) or write --format dot") from None
    except OSError as exc:
        raise InputError(f"cannot run dot: {exc.strerror}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"dot failed (exit code {proc.returncode})"
                         + (f": {message[0]}" if message else ""))
    return proc.stdout


# ---------------------------------------------------------------- Mermaid


def mermaid_escape(text: str) -> str:
    """Text inside a Mermaid double-quoted label: quotes and characters that
    Mermaid or HTML would read as syntax become entity codes; new lines <br/>."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("<br/>")
        elif ch in '"#&<>`|':
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


_MERMAID_SHAPE = {
    "input": ('(["', '"])'),
    "constant": ('(("', '"))'),
    "operation": ('["', '"]'),
    "output": ('[["', '"]]'),
}


def to_mermaid(p: Picture) -> str:
    """A Mermaid flowchart, left to right (renders in GitHub's Markdown)."""
    lines = ["flowchart LR"]
    for i in p.shown:
        left, right = _MERMAID_SHAPE[p.kind(i)]
        lines.append(f"  n{i}{left}{mermaid_escape(chr(10).join(p.labels[i]))}{right}")
    if p.hidden:
        lines.append(f'  more["{p.hidden:,} more nodes<br/>(--max-nodes N draws more)"]')
    for a, b, label in p.edges:
        if label:
            lines.append(f'  n{a} -->|"{mermaid_escape(label)}"| n{b}')
        else:
            lines.append(f"  n{a} --> n{b}")
    for i in p.cut:
        lines.append(f"  more -.-> n{i}")
    lines.append("  classDef input fill:#dbeafe,stroke:#1e40af")
    lines.append("  classDef constant fill:#ffffff,stroke:#9ca3af")
    lines.append("  classDef output fill:#fef3c7,stroke:#92400e")
    for kind in ("input", "constant", "output"):
        ids = [f"n{i}" for i in p.shown if p.kind(i) == kind]
        if ids:
            lines.append(f"  class {','.join(ids)} {kind}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the terminal


def to_tree(graph: Graph, result: Optional[Result] = None, *, digits: Optional[int] = None,
            max_nodes: int = 200, max_depth: int = 12) -> RenderableType:
    """A tree from the output back to the inputs: each node once in full,
    with its value and adjoint; an operation met again is referred to
    ("drawn above"). Each child shows, in brackets, the local factor on its
    edge to the node above. At most `max_nodes` entries and `max_depth`
    levels are drawn; a note says what was left out."""
    g = result.graph if result is not None else graph
    names = g.names()
    out = g.output_name
    fmt = lambda x: format_number(x, digits)  # noqa: E731

    def label(i: int) -> str:
        op = g.op[i]
        text = names[i] if op is None else f"{names[i]} = {g.expression(i, names)}"
        if result is not None and not result.was_evaluated(i):
            return text + "   (not evaluated: a branch where did not take)"
        if result is not None:
            if not g.is_literal(i):
                text += f" = {fmt(result.values[i])}"
            if g.active[i]:
                text += f"   ∂{out}/∂{names[i]} = {fmt(result.adjoints[i])}"
            if i in result.conventions:
                text += " †"
        return text

    root = Tree(Text(label(g.output)), guide_style="dim")
    drawn = bytearray(len(g.op))
    drawn[g.output] = 1
    entries = 1
    truncated = deep = False
    # stack of (parent tree, parent node, argument position, depth of the child)
    stack: list[tuple[Tree, int, int, int]] = []

    def push_args(tree: Tree, i: int, depth: int) -> None:
        args = g.args(i)
        for k in range(len(args) - 1, -1, -1):
            stack.append((tree, i, k, depth))

    push_args(root, g.output, 1)
    while stack:
        parent_tree, parent, k, depth = stack.pop()
        if entries >= max_nodes:
            truncated = True
            break
        j = g.args(parent)[k]
        edge = edge_label(g, result, parent, k, digits, names)
        suffix = f"   [{edge}]" if edge else ""
        entries += 1
        if g.op[j] is not None and drawn[j]:
            parent_tree.add(Text(f"{names[j]} (drawn above){suffix}"))
            continue
        drawn[j] = 1
        if g.op[j] is not None and depth >= max_depth:
            parent_tree.add(Text(f"{label(j)}{suffix}")).add(Text("⋯ (deeper than --max-depth)"))
            deep = True
            continue
        child = parent_tree.add(Text(f"{label(j)}{suffix}"))
        if g.op[j] is not None:
            push_args(child, j, depth + 1)
    head = f"computation graph of {out}"
    if result is not None:
        head += f" = {fmt(result.value)}"
    parts: list[RenderableType] = [Text(head + ", from the output back to the inputs"), root]
    legend = "[…]: the local factor on the edge to the node above"
    if result is not None:
        legend = f"∂{out}/∂node: the adjoint; " + legend
    parts.append(Text(legend))
    if result is not None and result.conventions:
        notes = [f"  {names[i]}: {'; '.join(n)}" for i, n in sorted(result.conventions.items()) if drawn[i]]
        if notes:
            parts.append(Text("\n".join(["† conventions where a derivative does not exist (as in PyTorch):",
                                         *notes])))
    if truncated or deep:
        reach = _near_output(g, None)[0].count(1)
        shown = drawn.count(1)
        what = []
        if truncated:
            what.append(f"--max-nodes {max_nodes}")
        if deep:
            what.append(f"--max-depth {max_depth}")
        parts.append(Text(f"{reach - shown:,} of {reach:,} nodes not drawn (limits: {', '.join(what)}); "
                          "--max-nodes 0 (and a larger --max-depth) draws all"))
    return Group(*parts)
