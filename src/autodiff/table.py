"""Pure functions from a Result to Rich renderables: the node table and the
gradient. Printing is the caller's business."""

from __future__ import annotations

from typing import Optional

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .evaluate import Result
from .numfmt import format_number
from .render import elide, node_rows

__all__ = ["result_table", "gradient_text", "result_renderable"]

MARK = "†"


def _table_rows(result: Result) -> list[int]:
    g = result.graph
    return [i for i in node_rows(result) if g.kind(i) != "constant"]


def result_table(result: Result, *, digits: Optional[int] = None,
                 max_rows: Optional[int] = None) -> Table:
    """The computation graph as a table: one row per node in evaluation order
    (variables first), with its operation, value, the local factor on each
    incoming edge, and its adjoint ∂output/∂node."""
    g = result.graph
    out = result.output
    names = g.names()
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    table = Table()
    # Numbers never wrap or shrink; a very long name is cut (…) rather than
    # squeezing them out of the table.
    table.add_column("node", no_wrap=True, max_width=24, overflow="ellipsis")
    table.add_column("operation", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("local factors", overflow="fold")
    table.add_column(f"adjoint ∂{out}/∂node", justify="right", no_wrap=True)

    def add(i: int) -> None:
        op = g.op[i]
        expr = "input" if op is None else g.expression(i, names)
        if not result.was_evaluated(i):  # a branch `where` did not take
            table.add_row(Text(names[i]), Text(expr), Text("not evaluated"), Text(""), Text("—"))
            return
        taken = result.taken(i)
        if taken is not None:
            expr += f", took {names[taken]}"
        local = [f"∂{names[i]}/∂{n} = {fmt(d)}" for n, d in result.local_factors(i).items()]
        mark = f" {MARK}" if i in result.conventions else ""
        adjoint = fmt(result.adjoints[i]) if g.active[i] else "—"
        table.add_row(Text(names[i]), Text(expr), Text(fmt(result.values[i])),
                      Text(", ".join(local) + mark), Text(adjoint))

    head, tail, hidden = elide(_table_rows(result), max_rows)
    for i in head:
        add(i)
    if hidden:
        table.add_row(*(Text("⋮") for _ in range(5)))

    for i in tail:
        add(i)
    return table


def gradient_text(result: Result, digits: Optional[int] = None) -> Text:
    out = result.output
    grad = result.gradient
    if not grad:
        return Text(f"{out} = {format_number(result.value, digits)} does not depend on any variable: "
                    "its gradient is empty")
    text = Text(f"gradient of {out} = {format_number(result.value, digits)}:\n")
    lines = [f"  ∂{out}/∂{name} = {format_number(v, digits)}" for name, v in grad.items()]
    text.append("\n".join(lines))
    return text


def conventions_text(result: Result) -> Optional[Text]:
    if not result.conventions:
        return None
    names = result.graph.names()
    lines = [f"{MARK} conventions where a derivative does not exist (as in PyTorch):"]
    lines += [f"  {names[i]}: {'; '.join(notes)}" for i, notes in sorted(result.conventions.items())]
    return Text("\n".join(lines))


def result_renderable(result: Result, *, digits: Optional[int] = None,
                      max_rows: Optional[int] = None) -> Group:
    parts: list[RenderableType] = [Text(f"computation graph of {result.output}"),
                                   result_table(result, digits=digits, max_rows=max_rows)]
    hidden = elide(_table_rows(result), max_rows)[2]
    if hidden:
        parts.append(Text(f"{hidden:,} more nodes not shown: --max-rows N shows more, --json shows all"))
    for note in result.graph.notes:  # (e is an ordinary name here)
        parts.append(Text(f"note: {note}"))
    notes = conventions_text(result)
    if notes is not None:
        parts.append(notes)
    parts.append(Text(""))
    parts.append(gradient_text(result, digits))
    return Group(*parts)
