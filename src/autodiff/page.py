"""One self-contained HTML page that steps through backpropagation, as on the
lecture's board: the graph drawn left to right (inputs left, output right),
the forward pass one node at a time, then the backward pass one edge at a time.

Pure functions: an explanation (or a graph, or a failed evaluation) in, the
page's text out. autodiff lays the graph out itself (`layout`: layers by
longest path from the inputs, the order within a layer by barycentres, long
edges routed through bend points) and writes every number; the page's script
(``assets/page.js``) only shows the steps it is given, embedded as JSON
(``explain_dict`` plus the drawing and the steps), and recomputes nothing.
The page makes no network request: styles and script are inline, and its
Content-Security-Policy forbids loading anything.

Large graphs are bounded as the other views are: at most `max_nodes` nodes,
those nearest the output. Nothing recurses over the graph.
"""

from __future__ import annotations

import copy
import html
import json
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping, Optional

from .errors import EvaluationError, escape_text
from .evaluate import Result
from .explain import Explanation, ForwardStep, _group, _write, explain, explain_dict, forward_steps
from .graph import Graph
from .numfmt import format_number
from .ops import formula_for

__all__ = ["Layout", "layout", "explanation_page", "failure_page", "structure_page", "page_data",
           "render_page", "embed_json"]

# Geometry, in CSS pixels. Node text is monospace (13px: 7.8px a character).
CHAR = 7.9
LABEL_CHAR = 7.0
LINE = 19
PAD = 10
GAP_Y = 26
MIN_GAP_X = 150
MAX_CHARS = 34  # longer names and expressions are cut (the full text is in the tooltip)


def _cut(text: str, limit: int = MAX_CHARS) -> str:
    text = escape_text(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------- layout


@dataclass
class Layout:
    """Where each drawn node and edge goes."""

    #: node index -> (x, y, width, height) of its box
    boxes: dict[int, tuple[float, float, float, float]]
    #: (from, to) -> the points the edge passes through, from the source's right side
    #: to the target's left side (bend points in between for an edge spanning layers)
    routes: dict[tuple[int, int], list[tuple[float, float]]]
    width: float
    height: float
    layer: dict[int, int] = field(default_factory=dict)


def layout(edges: list[tuple[int, int]], sizes: dict[int, tuple[float, float]],
           gaps: Optional[dict[int, float]] = None) -> Layout:
    """A layered left-to-right layout of a DAG whose node indices are in
    topological order. `sizes` gives each node's (width, height); `gaps` the
    horizontal room wanted after layer k (for edge labels)."""
    nodes = sorted(sizes)
    preds: dict[int, list[int]] = {i: [] for i in nodes}
    for a, b in edges:
        preds[b].append(a)
    layer: dict[int, int] = {}
    for i in nodes:  # topological order: arguments come first
        layer[i] = 1 + max((layer[j] for j in preds[i]), default=-1)
    depth = 1 + max(layer.values(), default=0)
    # Virtual nodes on long edges (negative ids), so that the ordering sees them.
    layers: list[list[int]] = [[] for _ in range(depth)]
    for i in nodes:
        layers[layer[i]].append(i)
    chain: dict[tuple[int, int], list[int]] = {}
    up: dict[int, list[int]] = {i: [] for i in nodes}
    down: dict[int, list[int]] = {i: [] for i in nodes}
    virtual = 0
    vsize: dict[int, tuple[float, float]] = {}
    for a, b in edges:
        path = [a]
        for k in range(layer[a] + 1, layer[b]):
            virtual -= 1
            layers[k].append(virtual)
            layer[virtual] = k
            up[virtual], down[virtual] = [], []
            vsize[virtual] = (0.0, 8.0)
            path.append(virtual)
        path.append(b)
        chain[(a, b)] = path
        for s, t in zip(path, path[1:], strict=False):
            down[s].append(t)
            up[t].append(s)
    size = dict(sizes)
    size.update(vsize)

    # Order within layers: a few barycentre sweeps, right to left then left to right.
    pos = {v: k for lay in layers for k, v in enumerate(lay)}
    for sweep in range(8):
        rng = range(depth - 2, -1, -1) if sweep % 2 == 0 else range(1, depth)
        for k in rng:
            nbrs = down if sweep % 2 == 0 else up

            def key(v: int, nbrs: dict[int, list[int]] = nbrs) -> float:
                ns = nbrs[v]
                return sum(pos[n] for n in ns) / len(ns) if ns else pos[v]

            layers[k].sort(key=key)
            for p, v in enumerate(layers[k]):
                pos[v] = p

    # Vertical positions: each node at the mean centre of its predecessors,
    # pushed down to keep the order and the gap; then every layer centred on the
    # tallest.
    centre: dict[int, float] = {}
    for k in range(depth):
        floor = 0.0
        for v in layers[k]:
            h = size[v][1]
            ps = up[v]
            want = sum(centre[p] for p in ps) / len(ps) if ps else floor + h / 2
            c = max(want, floor + h / 2)
            centre[v] = c
            floor = c + h / 2 + GAP_Y
    # Pull a layer back up when it was pushed down past its wish (stacked
    # inputs): centre its block on the block of what it feeds.
    for k in range(depth - 1, -1, -1):
        for v in layers[k]:
            if down[v] and not up[v]:
                want = sum(centre[t] for t in down[v]) / len(down[v])
                centre[v] = want
        # resolve overlaps again, keeping the order
        floor = -1e18
        for v in layers[k]:
            h = size[v][1]
            c = max(centre[v], floor + h / 2)
            centre[v] = c
            floor = c + h / 2 + GAP_Y
    top = min((centre[v] - size[v][1] / 2 for v in centre), default=0.0)
    x = 0.0
    xs: list[float] = []
    widths: list[float] = []
    for k in range(depth):
        w = max((size[v][0] for v in layers[k]), default=0.0)
        xs.append(x)
        widths.append(w)
        x += w + max(MIN_GAP_X, (gaps or {}).get(k, 0.0))
    boxes: dict[int, tuple[float, float, float, float]] = {}
    for i in nodes:
        w, h = size[i]
        k = layer[i]
        boxes[i] = (xs[k] + (widths[k] - w) / 2, centre[i] - h / 2 - top, w, h)
    routes: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for (a, b), path in chain.items():
        ax, ay, aw, ah = boxes[a]
        bx, by, bw, bh = boxes[b]
        pts = [(ax + aw, ay + ah / 2)]
        for v in path[1:-1]:
            k = layer[v]
            pts.append((xs[k] + widths[k] / 2, centre[v] - top))
        pts.append((bx, by + bh / 2))
        routes[(a, b)] = pts
    height = max((y + h for _, y, _, h in boxes.values()), default=0.0)
    return Layout(boxes, routes, x - max(MIN_GAP_X, (gaps or {}).get(depth - 1, 0.0)) if depth else 0.0,
                  height, {i: layer[i] for i in nodes})


def _path_d(pts: list[tuple[float, float]]) -> str:
    """An SVG path through the points: cubic segments leaving and entering horizontally."""
    (x0, y0) = pts[0]
    out = [f"M{x0:.1f},{y0:.1f}"]
    for (xa, ya), (xb, yb) in zip(pts, pts[1:], strict=False):
        dx = (xb - xa) / 2
        out.append(f"C{xa + dx:.1f},{ya:.1f} {xb - dx:.1f},{yb:.1f} {xb:.1f},{yb:.1f}")
    return " ".join(out)


# ---------------------------------------------------------------- the drawing's content


def _near_output(g: Graph, limit: Optional[int]) -> tuple[set[int], int]:
    """The nodes drawn: those the output depends on, breadth first from it
    (literal numbers are written inside their users' expressions, not drawn),
    at most `limit`; and how many were left out."""
    seen = bytearray(len(g.op))
    seen[g.output] = 1
    queue = deque([g.output])
    keep: set[int] = set()
    total = 0
    while queue:
        i = queue.popleft()
        if g.is_literal(i):
            continue
        total += 1
        if limit is None or len(keep) < limit:
            keep.add(i)
        for j in g.args(i):
            if not seen[j]:
                seen[j] = 1
                queue.append(j)
    return keep, total - len(keep)


@dataclass
class _Drawing:
    graph: Graph
    shown: set[int]
    hidden: int
    #: (from, to) pairs between drawn nodes, each once, in evaluation order
    pairs: list[tuple[int, int]]
    header: dict[int, str]
    #: edge -> "∂u/∂b = c" (no number), "" for an edge from a node without an adjoint
    symbolic: dict[tuple[int, int], str]


def _drawing(g: Graph, max_nodes: Optional[int]) -> _Drawing:
    names = g.names()
    shown, hidden = _near_output(g, max_nodes)
    pairs: list[tuple[int, int]] = []
    symbolic: dict[tuple[int, int], str] = {}
    header: dict[int, str] = {}
    for i in sorted(shown):
        op = g.op[i]
        if op is None:
            header[i] = names[i]
            continue
        header[i] = f"{names[i]} = {_write(g, i, [names[j] for j in g.args(i)])}"
        args = g.args(i)
        arg_names = [names[j] for j in args]
        for k, j in enumerate(args):
            if j not in shown:
                continue
            pair = (j, i)
            formula = formula_for(op, k, arg_names) if g.active[j] else ""
            if pair in symbolic:  # x·x: one edge, its factor the sum of both
                if formula:
                    symbolic[pair] += " + " + formula
                continue
            pairs.append(pair)
            symbolic[pair] = formula
    if names[g.output] != g.output_name:
        header[g.output] = f"{g.output_name} = {header[g.output]}"
    return _Drawing(g, shown, hidden, pairs, header, symbolic)


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


# ---------------------------------------------------------------- steps


def _forward_text(s: ForwardStep, fmt: Any) -> str:
    value = fmt(s.value)
    if not s.expression:
        return f"{s.name} = {value}" + (" (input)" if s.kind == "input" else " (constant)")
    parts = [s.name, s.expression]
    if s.substituted != s.expression:
        parts.append(s.substituted)
    if parts[-1] != value:
        parts.append(value)
    return " = ".join(parts)


def _step(phase: str, line: str, *, node: Optional[int] = None, edge: Optional[str] = None,
          detail: str = "", sets: Optional[list[list[str]]] = None,
          marks: Optional[list[list[str]]] = None) -> dict[str, Any]:
    return {"phase": phase, "line": line, "detail": detail,
            "node": None if node is None else f"n{node}", "edge": edge,
            "set": sets or [], "mark": marks or []}


def _forward_part(d: _Drawing, forward: list[ForwardStep], fmt: Any) -> list[dict[str, Any]]:
    steps = []
    incoming: dict[int, list[str]] = {}
    for k, pair in enumerate(d.pairs):
        incoming.setdefault(pair[1], []).append(f"e{k}")
    for s in forward:
        if s.node not in d.shown or s.kind == "alias":
            continue
        n = f"n{s.node}"
        step = _step("forward", _forward_text(s, fmt), node=s.node,
                     sets=[[f"{n}-v", fmt(s.value)]], marks=[[n, "computed"]])
        step["feeding"] = incoming.get(s.node, [])  # the edges its inputs come along
        steps.append(step)
    return steps


def _backward_part(d: _Drawing, ex: Explanation, fmt: Any, edge_id: dict[tuple[int, int], str]
                   ) -> list[dict[str, Any]]:
    g = d.graph
    out = ex.output_name
    steps = []
    for s in ex.backward:
        if s.node not in d.shown:
            continue
        n = f"n{s.node}"
        head = _d(out, s.name)
        if not s.terms:
            steps.append(_step("backward", f"{head} = {fmt(s.adjoint)}", node=s.node,
                               detail="the seed: the output's derivative with respect to itself",
                               sets=[[f"{n}-a", fmt(s.adjoint)]], marks=[[n, "adjoint"]]))
            continue
        products: list[str] = []
        terms = [t for t in s.terms if t.user in d.shown]
        hidden = len(s.terms) - len(terms)
        more = f" + … ({hidden:,} uses not drawn)" if hidden else ""
        if not terms:
            steps.append(_step("backward", f"{head} = {fmt(s.adjoint)} (the sum over{more[2:]})",
                               node=s.node, sets=[[f"{n}-a", fmt(s.adjoint)]], marks=[[n, "adjoint"]]))
            continue
        m = len(terms)
        for k, t in enumerate(terms):
            pair = (s.node, t.user)
            eid = edge_id.get(pair)
            product = fmt(t.product)
            products.append(product)
            if t.user == g.output:  # the output's own local factor, written as its formula:
                # ∂J/∂J · ∂J/∂v would read like the adjoint being computed
                chain = f"{_d(out, t.user_name)} · {_group(t.formula)}"
            else:
                chain = f"{_d(out, t.user_name)} · {_d(t.user_name, s.name)}"
            numbers = f"{_paren(fmt(t.adjoint))} · {_paren(fmt(t.local))}"
            local = fmt(t.local)
            detail = f"local factor {_d(t.user_name, s.name)} = "
            detail += f"{t.formula} = {local}" if t.formula != local else local
            if t.conventions:
                detail += f"   († {'; '.join(t.conventions)}, as in PyTorch)"
            sets: list[list[str]] = []
            marks: list[list[str]] = []
            if eid is not None:
                label = f"{_d(t.user_name, s.name)} = " + (f"{t.formula} = {local}" if t.formula != local
                                                           else local)
                sets.append([f"{eid}-f", label + (" †" if t.conventions else "")])
                marks.append([eid, "done"])
            if m == 1 and not hidden:
                line = f"{head} = {chain} = {numbers} = {product}"
                if product != fmt(s.adjoint):
                    line += f" = {fmt(s.adjoint)}"
                sets.append([f"{n}-a", fmt(s.adjoint)])
                marks.append([n, "adjoint"])
            else:
                line = f"use {k + 1} of {m + hidden:,}: {chain} = {numbers} = {product}"
                so_far = " + ".join(_paren(p) for p in products)
                if k + 1 < m:
                    sets.append([f"{n}-a", so_far + " + …"])
                    marks.append([n, "partial"])
                else:
                    total = fmt(s.adjoint)
                    line += f"; {head} = {so_far}{more} = {total}"
                    sets.append([f"{n}-a", f"{so_far}{more} = {total}" if not hidden else total])
                    marks.append([n, "adjoint"])
            steps.append(_step("backward", line, node=s.node, edge=eid, detail=detail, sets=sets,
                               marks=marks))
    return steps


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


# ---------------------------------------------------------------- the page's data


def page_data(d: _Drawing, *, explanation: Optional[dict[str, Any]], steps: list[dict[str, Any]],
              finals: dict[int, tuple[str, str]], title: str, error: Optional[dict[str, Any]] = None,
              notes: Optional[dict[int, list[str]]] = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data: the drawing (boxes,
    edge paths, label anchors), the steps and autodiff's explanation.
    `finals` gives each node's value and adjoint text as shown at the end (for
    sizing the boxes)."""
    g = d.graph
    notes = notes or {}
    names = g.names()
    sizes: dict[int, tuple[float, float]] = {}
    for i in d.shown:
        value, adjoint = finals.get(i, ("", ""))
        kind = "output" if i == g.output else g.kind(i)
        lines = [_cut(d.header[i]) + _kind_len(kind), f"value {value}", f"{_d(g.output_name, 'x')} {adjoint}"]
        lines += [f"† {n}" for n in notes.get(i, [])]
        chars = max(len(line) for line in lines)
        sizes[i] = (max(100.0, chars * CHAR + 2 * PAD + 16), len(lines) * LINE + 2 * PAD)
    texts = {key: text for s in steps for key, text in s["set"]}
    labels: dict[tuple[int, int], str] = {}
    for k, pair in enumerate(d.pairs):
        if d.symbolic[pair]:
            labels[pair] = texts.get(f"e{k}-f", f"∂{names[pair[1]]}/∂{names[pair[0]]} = {d.symbolic[pair]}")
    gaps: dict[int, float] = {}
    lay0 = layout(d.pairs, sizes)
    for (_a, b), text in labels.items():
        k = lay0.layer[b] - 1
        gaps[k] = max(gaps.get(k, 0.0), len(text) * LABEL_CHAR + 64)
    lay = layout(d.pairs, sizes, {k: min(v, 420.0) for k, v in gaps.items()})
    nodes = []
    for i in sorted(d.shown):
        x, y, w, h = lay.boxes[i]
        kind = "output" if i == g.output else g.kind(i)
        nodes.append({"id": f"n{i}", "name": names[i], "kind": kind, "header": d.header[i],
                      "active": bool(g.active[i]), "box": [round(x, 1), round(y, 1), w, h],
                      "notes": notes.get(i, [])})
    edges = []
    for k, pair in enumerate(d.pairs):
        pts = lay.routes[pair]
        (xa, ya), (xb, yb) = pts[-2], pts[-1]
        edges.append({"id": f"e{k}", "from": f"n{pair[0]}", "to": f"n{pair[1]}",
                      "path": _path_d(pts), "anchor": [round((xa + xb) / 2, 1), round((ya + yb) / 2, 1)],
                      "formula": d.symbolic[pair], "active": bool(g.active[pair[0]])})
    return {"schema": 1, "title": title, "output": g.output_name, "program": g.text,
            "size": [round(lay.width, 1), round(lay.height, 1)], "hidden": d.hidden,
            "nodes": nodes, "edges": edges, "steps": steps, "error": error,
            "explain": explanation}


def _edge_ids(d: _Drawing) -> dict[tuple[int, int], str]:
    return {pair: f"e{k}" for k, pair in enumerate(d.pairs)}


# ---------------------------------------------------------------- pages


def explanation_page(ex: Explanation, *, digits: Optional[int] = None, max_nodes: Optional[int] = 200,
                     title: Optional[str] = None) -> str:
    """The interactive page of an explanation: forward then backward steps."""
    result = ex.result
    g = result.graph
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    d = _drawing(g, max_nodes)
    ids = _edge_ids(d)
    start = _step("start", f"{g.output_name} = {fmt(result.value)}: press → (or Next) to start the "
                  "forward pass", detail="Forward pass: each node's value, in evaluation order. "
                  "Backward pass: each adjoint, one edge at a time, from the output back.")
    steps = [start] + _forward_part(d, ex.forward, fmt) + _backward_part(d, ex, fmt, ids)
    steps.append(_step("end", _gradient_line(result, fmt),
                       detail="Every adjoint is the sum, over the node's uses, of the user's adjoint "
                       "times the local factor on that edge."))
    finals = _finals(result, d, steps)
    notes = {i: list(v) for i, v in result.conventions.items() if i in d.shown}
    doc = explain_dict(ex)
    if d.hidden:
        shown_names = {g.names()[i] for i in d.shown}
        doc["forward"] = [s for s in doc["forward"] if s["node"] in shown_names]
        doc["backward"] = [dict(s, terms=[t for t in s["terms"] if t["user"] in shown_names])
                           for s in doc["backward"] if s["node"] in shown_names]
    data = page_data(d, explanation=doc, steps=steps, finals=finals,
                     title=title or f"How autodiff computes {g.output_name} = {fmt(result.value)}",
                     notes=notes)
    return render_page(data)


def _gradient_line(result: Result, fmt: Any) -> str:
    grad = result.gradient
    if not grad:
        return f"{result.output} does not depend on any variable"
    return "gradient: " + ", ".join(f"{_d(result.output, k)} = {fmt(v)}" for k, v in grad.items())


def _finals(result: Result, d: _Drawing, steps: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """Each drawn node's value and adjoint texts as the last step leaves them."""
    texts: dict[str, str] = {}
    for s in steps:
        for key, text in s["set"]:
            texts[key] = text
    return {i: (texts.get(f"n{i}-v", ""), texts.get(f"n{i}-a", "")) for i in d.shown}


def failure_page(graph: Graph, bindings: Mapping[str, float], error: EvaluationError, *,
                 digits: Optional[int] = None, max_nodes: Optional[int] = 200) -> str:
    """The page of a program whose evaluation failed: the forward pass up to
    the failing node, then the error at that node (a derivative that fails
    shows the whole forward pass first)."""
    from .evaluate import check_bindings, forward

    g = graph
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    names = g.names()
    bad = names.index(error.node) if error.node in names else g.output
    bound = check_bindings(g, bindings)
    try:
        values = forward(g, bound)
        upto: Optional[int] = None
    except EvaluationError:
        partial = copy.copy(g)  # the same nodes, evaluated only below the failing one
        partial.output = bad - 1
        values = forward(partial, bound) if bad > 0 else [0.0 if v is None else v for v in g.const]
        upto = bad
    d = _drawing(g, max_nodes)
    fsteps = forward_steps(g, values, digits=digits, upto=upto)
    start = _step("start", f"evaluating {g.output_name} fails: press → to step to the error")
    steps = [start] + _forward_part(d, fsteps, fmt)
    steps.append(_step("error", f"error: {error.message}", node=bad if bad in d.shown else None,
                       detail=error.hint or "", sets=[[f"n{bad}-v", "error"]], marks=[[f"n{bad}", "failed"]]))
    finals = {i: (fmt(values[i]) if upto is None or i < upto else "error", "") for i in d.shown}
    doc = {"schema": 1, "output": g.output_name,
           "forward": [{"node": s.name, "op": s.kind, "expression": s.expression,
                        "substituted": s.substituted, "value": _json_value(s.value)} for s in fsteps],
           "backward": [], "error": error.to_dict()}
    data = page_data(d, explanation=doc, steps=steps, finals=finals,
                     title=f"Where evaluating {g.output_name} fails", error=error.to_dict())
    return render_page(data)


def _json_value(x: float) -> Any:
    from .numfmt import json_number

    return json_number(x)


def structure_page(graph: Graph) -> str:
    """The graph alone (no variable bound): each edge with its local factor
    in the program's names; no steps."""
    g = graph
    d = _drawing(g, 200)
    data = page_data(d, explanation=None, steps=[_step("start", "Bind every variable (--NAME VALUE) "
                                                       "to step through the forward and backward passes.")],
                     finals={}, title=f"The computation graph of {g.output_name}")
    return render_page(data)


# ---------------------------------------------------------------- HTML


def embed_json(doc: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>', '&' or line
    separators appear raw, so user text cannot close the element."""
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _asset(name: str) -> str:
    return resources.files("autodiff").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'")


def render_page(data: dict[str, Any]) -> str:
    """The HTML text of a page: static markup for the drawing (so that it
    reads without the script and prints), the data as JSON, the script that
    steps through it."""
    e = html.escape
    w, h = data["size"]
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<link rel="icon" href="data:,">', f"<title>{e(data['title'])}</title>",
             f"<style>{_asset('page.css')}</style>", "</head>", "<body>", '<main class="autodiff-page">',
             f"<h1>{e(data['title'])}</h1>"]
    if data["program"]:
        parts.append(f'<pre class="program" aria-label="program">{e(data["program"].strip())}</pre>')
    has_steps = len(data["steps"]) > 1
    if has_steps:
        parts.append(_CONTROLS)
    parts.append('<section class="narration" aria-live="polite">'
                 '<p class="phase" id="phase"></p><p class="line" id="line"></p>'
                 '<p class="detail" id="detail"></p></section>')
    if data["hidden"]:
        parts.append(f'<p class="hidden-note">Showing the {len(data["nodes"]):,} nodes nearest the output; '
                     f'{data["hidden"]:,} more are not drawn (--max-nodes N draws more).</p>')
    parts.append('<div class="scroller" id="scroller">')
    parts.append(f'<div class="board" role="img" aria-label="computation graph, inputs left, output '
                 f'right" style="width:{w + 8:.0f}px;height:{h + 8:.0f}px">')
    markers = "".join(
        f'<marker id="arrow-{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{m}" '
        f'markerHeight="{m}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" class="head-{k}"/></marker>'
        for k, m in (("todo", 9), ("done", 10), ("feeding", 12), ("current", 14)))
    parts.append(f'<svg class="edges" width="{w + 8:.0f}" height="{h + 8:.0f}" aria-hidden="true">'
                 f"<defs>{markers}</defs>")
    for edge in data["edges"]:
        cls = "edge" + ("" if edge["active"] else " inactive")
        parts.append(f'<path id="{edge["id"]}" class="{cls}" d="{edge["path"]}" '
                     f'data-from="{edge["from"]}" data-to="{edge["to"]}"/>')
    parts.append("</svg>")
    for edge in data["edges"]:
        if not edge["formula"]:
            continue
        x, y = edge["anchor"]
        sym = f'{_d(_name(data, edge["to"]), _name(data, edge["from"]))} = {edge["formula"]}'
        shown = "" if has_steps else e(_cut(sym, 60))
        parts.append(f'<div class="factor" id="{edge["id"]}-f" data-symbolic="{e(_cut(sym, 60))}" '
                     f'style="left:{x:.0f}px;top:{y:.0f}px">{shown}</div>')
    out = data["output"]
    for node in data["nodes"]:
        x, y, nw, nh = node["box"]
        nid = node["id"]
        header = node["header"]
        rows = [f'<div class="head" title="{e(escape_text(header))}">{e(_cut(header))}'
                f'{_kind_tag(node["kind"])}</div>']
        rows.append(f'<div class="row"><span class="key">value</span> <output id="{nid}-v"></output></div>')
        if node["active"]:
            rows.append(f'<div class="row"><span class="key">{e(_cut(_d(out, node["name"]), 24))}</span> '
                        f'<output id="{nid}-a"></output></div>')
        else:
            rows.append('<div class="row key">no adjoint (a constant)</div>')
        rows += [f'<div class="row note">† {e(n)}</div>' for n in node["notes"]]
        parts.append(f'<div class="node {node["kind"]}" id="{nid}" data-name="{e(node["name"])}" '
                     f'style="left:{x:.0f}px;top:{y:.0f}px;width:{nw:.0f}px;min-height:{nh:.0f}px">'
                     + "".join(rows) + "</div>")
    parts.append("</div></div>")
    if has_steps:
        parts.append('<section class="log"><h2>Steps so far</h2><ol id="log" start="1"></ol></section>')
    parts.append(f'<p class="legend">{e(LEGEND)}</p>')
    parts.append(f'<script type="application/json" id="autodiff-data">{embed_json(data)}</script>')
    parts.append(f"<script>{_asset('page.js')}</script>")
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _kind_len(kind: str) -> str:
    """Room for the kind tag in a box's first line (small type: about 0.85 of a character)."""
    return "" if kind == "operation" else " " * (1 + int(len(kind) * 0.85 + 0.5))


def _kind_tag(kind: str) -> str:
    return "" if kind == "operation" else f" <small>{kind}</small>"


def _name(data: dict[str, Any], nid: str) -> str:
    for node in data["nodes"]:
        if node["id"] == nid:
            return str(node["name"])
    return "?"


LEGEND = ("Dashed box: not computed yet. Solid box: value known. Bold number: adjoint known. "
          "Thick blue edges: the inputs of the node being computed. Thick red edge with ◀: the current "
          "step of the backward pass (its arrows point from the output back, the way the adjoints flow). "
          "† marks a convention at a point where the derivative does not exist. "
          "Keys: → next, ← back, Home/End, Space play/pause.")

_CONTROLS = """<nav class="controls" aria-label="step controls">
<button type="button" id="first" title="first step (Home)">« Start</button>
<button type="button" id="prev" title="previous step (←)">◀ Back</button>
<button type="button" id="play" title="play or pause (Space)">▶ Play</button>
<button type="button" id="next" title="next step (→)">Next ▶</button>
<button type="button" id="last" title="last step (End)">End »</button>
<input type="range" id="slider" min="0" max="0" value="0" aria-label="step">
<span class="counter" id="counter"></span>
<button type="button" id="fit" aria-pressed="false" title="the whole graph in the window">Fit width</button>
<a id="permalink" href="#step=0">link to this step</a>
</nav>"""


def page_for(result: Result, *, digits: Optional[int] = None, max_nodes: Optional[int] = 200) -> str:
    """The explanation page of an evaluated result."""
    return explanation_page(explain(result, digits=digits), digits=digits, max_nodes=max_nodes)
