"""Tables and JSON documents for forward mode, Jacobians, Hessians, Taylor
series and exact rationals (eval --mode/--seed/--of J,K/--hessian/--hvp/
--order/--exact). Loaded only by those options.

JSON: every document stays schema 1. The new options add optional keys to
the result object ("forward", "hessian", "hvp", "taylor", "exact"; a node's
"tangent" and "exact"), and `--of J,K` prints a Jacobian document of its own
(`"jacobian"`); documents of the existing options are unchanged, so nothing a
script relied on changed (schema/result.schema.json describes them all).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Optional

from .graph import Graph
from .numfmt import format_number, json_number

__all__ = ["forward_doc", "jacobian_doc", "hessian_doc", "taylor_doc", "exact_doc",
           "forward_renderable", "jacobian_renderable", "hessian_renderable",
           "taylor_renderable", "exact_renderable"]


def _numbers(d: dict[str, float]) -> dict[str, Any]:
    return {k: json_number(v) for k, v in d.items()}


def _base(output: str, value: float, gradient: dict[str, float], bindings: dict[str, Any]
          ) -> dict[str, Any]:
    from .render import SCHEMA_VERSION

    return {"schema": SCHEMA_VERSION, "output": output, "value": json_number(value),
            "gradient": _numbers(gradient), "bindings": _numbers(bindings)}


def _node_list(graph: Graph, values: list[Any], extra: Any) -> list[dict[str, Any]]:
    """The nodes of the output's graph, with `extra(i)`'s keys."""
    names = graph.names()
    seen = set(graph.variables.values())
    order = [graph.variables[v] for v in graph.output_variables()] + [
        i for i in range(graph.output + 1) if i not in seen]
    reach = graph.reachable()
    out = []
    for i in order:
        if not reach[i] and graph.op[i] is not None:
            continue
        op = graph.op[i]
        node: dict[str, Any] = {"name": names[i]}
        if op is None:
            node.update(op=graph.kind(i), expression=names[i], inputs=[])
        else:
            node.update(op=op.name, expression=graph.expression(i, names),
                        inputs=[names[j] for j in graph.args(i)])
        node.update(extra(i))
        out.append(node)
    return out


# ---------------------------------------------------------------- forward mode


def forward_doc(fwd: Any, reverse: Any = None, nodes: bool = True) -> dict[str, Any]:
    """--mode forward (with or without --seed), --mode both (`reverse` given)."""
    gradient = reverse.gradient if reverse is not None else fwd.gradient
    doc = _base(fwd.output, fwd.value, gradient, fwd.bindings)
    info: dict[str, Any] = {"sweeps": fwd.sweeps}
    if fwd.seed is not None:
        info["seed"] = _numbers(fwd.seed)
        info["derivative"] = json_number(fwd.derivative)
    else:
        info["gradient"] = _numbers(fwd.gradient)
    if reverse is not None:
        info["reverse_sweeps"] = 1
    doc["forward"] = info
    if nodes:
        g, values, t = fwd.graph, fwd.values, fwd.tangents
        names = g.names()

        def extra(i: int) -> dict[str, Any]:
            e: dict[str, Any] = {"value": json_number(values[i])}
            d = fwd.local[i]
            local: dict[str, Any] = {}
            if d is not None:
                for k, j in enumerate(g.args(i)):
                    if g.active[j]:
                        local[names[j]] = local.get(names[j], 0.0) + d[k]
            e["local"] = _numbers(local)
            e["adjoint"] = (json_number(reverse.adjoints[i]) if reverse is not None and g.active[i]
                            else None)
            if t is not None:
                e["tangent"] = json_number(t[i])
            if i in fwd.conventions:
                e["conventions"] = fwd.conventions[i]
            return e

        doc["nodes"] = _node_list(g, values, extra)
    return doc


def forward_renderable(fwd: Any, reverse: Any = None, digits: Optional[int] = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    fmt = lambda x: format_number(x, digits)  # noqa: E731
    parts: list[Any] = []
    g = fwd.graph
    if fwd.tangents is not None:
        seed = ", ".join(f"{k}={fmt(v)}" for k, v in fwd.seed.items())
        parts.append(Text(f"forward mode: tangents of {fwd.output} along ({seed}), left to right"))
        table = Table()
        for head, justify in (("node", "left"), ("expression", "left"), ("value", "right"),
                              ("tangent", "right")):
            table.add_column(head, justify=justify, overflow="fold")  # type: ignore[arg-type]
        names = g.names()
        for node in _node_list(g, fwd.values, lambda i: {}):
            i = names.index(node["name"]) if node["name"] in names else -1
            table.add_row(node["name"], node["expression"], fmt(fwd.values[i]), fmt(fwd.tangents[i]))
        parts.append(table)
        parts.append(Text(f"∂{fwd.output}/∂({seed}) = {fmt(fwd.derivative)}   (1 forward sweep)"))
        return Group(*parts)
    table = Table()
    table.add_column("variable", overflow="fold")
    if reverse is not None:
        table.add_column("reverse mode", justify="right", no_wrap=True)
    table.add_column("forward mode", justify="right", no_wrap=True)
    for name, d in fwd.gradient.items():
        row = [name] + ([fmt(reverse.gradient[name])] if reverse is not None else []) + [fmt(d)]
        table.add_row(*row)
    parts.append(Text(f"gradient of {fwd.output} = {fmt(fwd.value)}"))
    parts.append(table)
    sweeps = f"{fwd.sweeps} sweep{'s' if fwd.sweeps != 1 else ''} (one per input)"
    if reverse is not None:
        parts.append(Text("reverse mode: 1 sweep (every partial derivative at once)"))
    parts.append(Text(f"forward mode: {sweeps}"))
    notes = _conventions(g, fwd.conventions)
    if notes:
        parts.append(Text(notes))
    return Group(*parts)


def _conventions(g: Graph, conventions: dict[int, list[str]]) -> str:
    names = g.names()
    return "\n".join(f"at {names[i]}: {'; '.join(v)}" for i, v in sorted(conventions.items()))


# ---------------------------------------------------------------- Jacobian


def jacobian_doc(j: Any) -> dict[str, Any]:
    from .render import SCHEMA_VERSION

    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "outputs": j.outputs,
        "inputs": j.inputs,
        "values": _numbers(j.values),
        "jacobian": [[json_number(x) for x in row] for row in j.matrix],
        "mode": j.mode,
        "sweeps": j.sweeps,
        "bindings": _numbers(j.bindings),
    }
    if j.conventions:
        doc["conventions"] = j.conventions
    return doc


def jacobian_renderable(j: Any, digits: Optional[int] = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("∂ / ∂", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    for name in j.inputs:
        table.add_column(name, justify="right", no_wrap=True, overflow="fold")
    for r, name in enumerate(j.outputs):
        table.add_row(name, format_number(j.values[name], digits),
                      *[format_number(x, digits) for x in j.matrix[r]])
    other = len(j.inputs) if j.mode == "reverse" else len(j.outputs)
    each = "output" if j.mode == "reverse" else "input"
    alt = "forward" if j.mode == "reverse" else "reverse"
    plural = "s" if j.sweeps != 1 else ""
    rows, cols = ", ".join(j.outputs), ", ".join(j.inputs)
    parts: list[Any] = [Text(f"Jacobian of {rows} (rows) with respect to {cols}"),
             table,
             Text(f"{j.sweeps} {j.mode} sweep{plural} (one per {each}); {alt} mode would need {other}")]
    for node, notes in j.conventions.items():
        parts.append(Text(f"at {node}: {'; '.join(notes)}"))
    return Group(*parts)


# ---------------------------------------------------------------- Hessian


def hessian_doc(h: Any) -> dict[str, Any]:
    doc = _base(h.output, h.value, h.gradient, h.bindings)
    if h.matrix is not None:
        doc["hessian"] = {"inputs": h.inputs,
                          "matrix": [[json_number(x) for x in row] for row in h.matrix],
                          "sweeps": h.sweeps}
    else:
        doc["hvp"] = {"vector": _numbers(h.vector), "product": _numbers(h.product)}
    if h.conventions:
        doc["conventions"] = h.conventions
    return doc


def hessian_renderable(h: Any, digits: Optional[int] = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    fmt = lambda x: format_number(x, digits)  # noqa: E731
    parts: list[Any] = [Text(f"{h.output} = {fmt(h.value)}")]
    table = Table()
    if h.matrix is not None:
        table.add_column("∂² / ∂∂", overflow="fold")
        for name in h.inputs:
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("gradient", justify="right", no_wrap=True)
        for r, name in enumerate(h.inputs):
            table.add_row(name, *[fmt(x) for x in h.matrix[r]], fmt(h.gradient[name]))
        parts.append(Text(f"Hessian of {h.output}"))
        parts.append(table)
        parts.append(Text(f"forward over reverse: {h.sweeps} tangent pass"
                          f"{'es' if h.sweeps != 1 else ''} (one per input)"))
    else:
        table.add_column("variable", overflow="fold")
        table.add_column("v", justify="right", no_wrap=True)
        table.add_column("gradient", justify="right", no_wrap=True)
        table.add_column("(H·v)", justify="right", no_wrap=True)
        for name in h.inputs:
            table.add_row(name, fmt(h.vector.get(name, 0.0)), fmt(h.gradient[name]),
                          fmt(h.product[name]))
        parts.append(Text(f"Hessian-vector product of {h.output}"))
        parts.append(table)
        parts.append(Text("1 tangent pass through the reverse sweep (no Hessian built)"))
    for node, notes in h.conventions.items():
        parts.append(Text(f"at {node}: {'; '.join(notes)}"))
    return Group(*parts)


# ---------------------------------------------------------------- Taylor


def taylor_doc(t: Any, value: float, gradient: dict[str, float]) -> dict[str, Any]:
    doc = _base(t.output, value, gradient, t.bindings)
    doc["taylor"] = {"variable": t.variable, "order": t.order,
                     "derivatives": [json_number(x) for x in t.derivatives],
                     "coefficients": [json_number(x) for x in t.coefficients]}
    return doc


def taylor_renderable(t: Any, digits: Optional[int] = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("k", justify="right")
    table.add_column(f"d^k {t.output} / d{t.variable}^k", justify="right", no_wrap=True)
    table.add_column("Taylor coefficient", justify="right", no_wrap=True)
    for k, (d, c) in enumerate(zip(t.derivatives, t.coefficients, strict=True)):
        table.add_row(str(k), format_number(d, digits), format_number(c, digits))
    at = format_number(t.bindings[t.variable], digits)
    return Group(Text(f"{t.output} along {t.variable} at {t.variable} = {at}: Taylor series "
                      f"to order {t.order}, one pass"), table)


# ---------------------------------------------------------------- exact


def exact_doc(r: Any, nodes: bool = True) -> dict[str, Any]:
    from .rationals import _float, exact_text

    g = r.graph
    names = g.names()
    grad = r.gradient
    import math

    if not all(math.isfinite(_float(x)) for x in [r.value, *grad.values()]):
        from .errors import EvaluationError

        raise EvaluationError(
            "overflow", "--exact --json: the exact result is beyond a double's range, so the float "
            "written beside it would be infinite; the table shows it", node=r.output, op="",
            expression="", inputs=[])
    doc = _base(r.output, _float(r.value), {k: _float(v) for k, v in grad.items()},
                {k: _float(v) for k, v in r.bindings.items()})
    doc["exact"] = {
        "value": exact_text(r.value),
        "gradient": {k: exact_text(v) for k, v in grad.items()},
        "bindings": {k: str(v) for k, v in r.bindings.items()},
        "inexact": [names[i] for i in sorted(r.inexact)],
    }
    if nodes:
        def extra(i: int) -> dict[str, Any]:
            e: dict[str, Any] = {"value": json_number(_float(r.values[i]))}
            d = r.local[i]
            local: dict[str, Any] = {}
            ex_local: dict[str, str] = {}
            if d is not None:
                for k, j in enumerate(g.args(i)):
                    if d[k] is not None:
                        local[names[j]] = local.get(names[j], 0) + d[k]
                ex_local = {k: exact_text(v) for k, v in local.items()}
            e["local"] = {k: json_number(_float(v)) for k, v in local.items()}
            e["adjoint"] = json_number(_float(r.adjoints[i])) if g.active[i] else None
            if i in r.conventions:
                e["conventions"] = r.conventions[i]
            e["exact"] = {"value": exact_text(r.values[i]), "local": ex_local,
                          "adjoint": exact_text(r.adjoints[i]) if g.active[i] else None}
            return e

        doc["nodes"] = _node_list(g, r.values, extra)
    return doc


def exact_renderable(r: Any, max_rows: Optional[int] = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .rationals import exact_text
    from .render import elide

    g = r.graph
    names = g.names()
    def mark(i: int, x: Any) -> str:  # a float (--exact=auto) is marked ≈
        return exact_text(x) if isinstance(x, Fraction) else format_number(float(x)) + " ≈"

    table = Table()
    for title, justify in (("node", "left"), ("expression", "left"), ("value", "right"),
                           ("adjoint", "right")):
        table.add_column(title, justify=justify, overflow="fold")  # type: ignore[arg-type]
    rows = _node_list(g, r.values, lambda i: {"i": i})
    first, last, hidden = elide(rows, max_rows)
    for k, node in enumerate(first + last):
        if hidden and k == len(first):
            table.add_row("...", f"{hidden:,} more", "", "")
        i = node["i"]
        table.add_row(node["name"], node["expression"], mark(i, r.values[i]),
                      mark(i, r.adjoints[i]) if g.active[i] else "")
    parts: list[Any] = [Text(f"computation graph of {r.output}, in rational numbers"), table]
    if r.inexact:
        parts.append(Text("≈ computed in floating point (--exact=auto)"))
    for i, notes in sorted(r.conventions.items()):
        parts.append(Text(f"at {names[i]}: {'; '.join(notes)}"))
    parts.append(Text(""))
    width = max((len(k) for k in r.gradient), default=1)
    lines = [f"{r.output} = {mark(g.output, r.value)}"]
    for k, v in r.gradient.items():
        lines.append(f"∂{r.output}/∂{k:<{width}} = {mark(g.variables[k], v)}")
    parts.append(Text("\n".join(lines)))
    return Group(*parts)


# ---------------------------------------------------------------- explain --mode forward

WHY_FORWARD = ("Forward mode carries one direction through the graph: one sweep gives the\n"
               "derivative of every node along that direction, so the gradient of n inputs\n"
               "takes n sweeps (one per input), where reverse mode takes one. Forward mode\n"
               "wins when there are fewer inputs than outputs (a Jacobian with few columns).")


def explain_forward_text(fwd: Any, digits: Optional[int] = None,
                         max_steps: Optional[int] = None) -> str:
    """The forward sweep narrated as explain narrates the reverse one: each
    node's tangent ṫ = Σ_k ∂node/∂arg_k · ṫ(arg_k), left to right."""
    from .ops import formula_for
    from .render import elide

    assert fwd.tangents is not None and fwd.seed is not None
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    g = fwd.graph
    names = g.names()
    t = fwd.tangents

    def paren(s: str) -> str:
        return f"({s})" if s.startswith("-") or " " in s else s

    seed = ", ".join(f"{k} = {fmt(v)}" for k, v in fwd.seed.items())
    lines = [f"How forward mode computes the derivative of {fwd.output} along ({seed})", "",
             "Seed: each input's tangent ṫ is its component of the direction (others 0)"]
    for name in g.output_variables():
        lines.append(f"  ṫ({name}) = {fmt(fwd.seed.get(name, 0.0))}")
    lines += ["", "Forward sweep: values and tangents, in evaluation order",
              "(ṫ(node) = Σ ∂node/∂input · ṫ(input))"]
    reach = g.reachable()
    steps = [i for i in range(g.output + 1) if g.op[i] is not None and reach[i]]
    head, tail, hidden = elide(steps, max_steps)

    def line(i: int) -> list[str]:
        args = g.args(i)
        expr = g.expression(i, names)
        out = [f"  {names[i]} = {expr} = {fmt(fwd.values[i])}"]
        d = fwd.local[i]
        if d is None:
            out.append(f"    ṫ({names[i]}) = 0   (no input depends on a variable)")
            return out
        terms = [(k, j) for k, j in enumerate(args) if g.active[j]]
        symbols = " + ".join(f"∂{names[i]}/∂{names[j]} · ṫ({names[j]})" for _, j in terms)
        formulas = " + ".join(f"{paren(formula_for(g.op[i], k, [names[a] for a in args]))} · "
                              f"{paren(fmt(t[j]))}" for k, j in terms)
        numbers = " + ".join(f"{paren(fmt(d[k]))} · {paren(fmt(t[j]))}" for k, j in terms)
        parts = [f"ṫ({names[i]})", symbols, formulas]
        if numbers != formulas:
            parts.append(numbers)
        parts.append(fmt(t[i]))
        out.append("    " + " = ".join(parts))
        return out

    for i in head:
        lines += line(i)
    if hidden:
        lines.append(f"  ⋮ {hidden:,} more nodes not shown (--max-nodes N shows more)")
    for i in tail:
        lines += line(i)
    lines += ["", f"Result: ∂{fwd.output}/∂({seed}) = ṫ({fwd.output}) = {fmt(fwd.derivative)}, "
              "from 1 forward sweep", "", "Why forward mode", WHY_FORWARD]
    return "\n".join(lines)
