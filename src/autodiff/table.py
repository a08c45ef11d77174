"""Pure functions from a Result to Rich renderables: the node table and the
gradient. Printing is the caller's business."""

from __future__ import annotations

from typing import Optional

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from .evaluate import Result
from .numfmt import format_number
from .render import elide, node_rows

__all__ = ["result_table", "gradient_text", "result_renderable", "cut"]

MARK = "†"
#: the longest name the table shows whole (longer: head…tail)
NAME_WIDTH = 24
#: the longest name a gradient line shows whole
GRADIENT_NAME_WIDTH = 48


def cut(name: str, width: int = NAME_WIDTH) -> str:
    """`name` itself, or its head and tail around "…" in `width` characters
    (the ends tell weight_of_layer_one_a from weight_of_layer_one_b)."""
    if len(name) <= width:
        return name
    tail = (width - 1) // 2
    return name[:width - 1 - tail] + "…" + name[len(name) - tail:]


def _table_rows(result: Result) -> list[int]:
    g = result.graph
    return [i for i in node_rows(result) if g.kind(i) != "constant"]


def result_table(result: Result, *, digits: Optional[int] = None,
                 max_rows: Optional[int] = None, local_column: bool = True,
                 local_join: str = ", ") -> Table:
    """The computation graph as a table: one row per node in evaluation order
    (variables first), with its operation, value, the local factor on each
    incoming edge, and its adjoint ∂output/∂node (without `local_column`, the
    local factors are left out: `local_factors_text` lists them)."""
    g = result.graph
    out = cut(result.output)
    # Numbers never wrap or shrink; a very long name is cut (head…tail) in
    # every column, rather than squeezing them out of the table (or folding a
    # 5e6-character name over thousands of lines).
    names = [cut(n) for n in g.names()]
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    table = Table()
    table.add_column("node", no_wrap=True, max_width=NAME_WIDTH, overflow="ellipsis")
    table.add_column("operation", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    if local_column:
        table.add_column("local factors", overflow="fold")
    table.add_column(f"adjoint ∂{out}/∂node", justify="right", no_wrap=True)
    width = 5 if local_column else 4

    def add(i: int) -> None:
        op = g.op[i]
        expr = "input" if op is None else g.expression(i, names)
        if not result.was_evaluated(i):  # a branch `where` did not take
            blank = [Text("")] if local_column else []
            table.add_row(Text(names[i]), Text(expr), Text("not evaluated"), *blank, Text("—"))
            return
        taken = result.taken(i)
        if taken is not None:
            expr += f", took {names[taken]}"
        adjoint = fmt(result.adjoints[i]) if g.active[i] else "—"
        if not local_column:
            table.add_row(Text(names[i]), Text(expr), Text(fmt(result.values[i])), Text(adjoint))
            return
        local = [f"∂{names[i]}/∂{cut(n)} = {fmt(d)}" for n, d in result.local_factors(i).items()]
        mark = f" {MARK}" if i in result.conventions else ""
        table.add_row(Text(names[i]), Text(expr), Text(fmt(result.values[i])),
                      Text(local_join.join(local) + mark), Text(adjoint))

    head, tail, hidden = elide(_table_rows(result), max_rows)
    for i in head:
        add(i)
    if hidden:
        table.add_row(*(Text("⋮") for _ in range(width)))

    for i in tail:
        add(i)
    return table


def local_factors_text(result: Result, *, digits: Optional[int] = None,
                       max_rows: Optional[int] = None) -> Text:
    """The local factors of the table's rows, one a line (for a console too
    narrow for the table's local-factors column: a number is never split)."""
    g = result.graph
    names = [cut(n) for n in g.names()]
    lines = ["local factors ∂node/∂input:"]

    def add(i: int) -> None:
        mark = f" {MARK}" if i in result.conventions else ""
        for n, d in result.local_factors(i).items():
            lines.append(f"  ∂{names[i]}/∂{cut(n)} = {format_number(d, digits)}{mark}")

    head, tail, hidden = elide(_table_rows(result), max_rows)
    for i in head:
        add(i)
    if hidden:
        lines.append("  ⋮")
    for i in tail:
        add(i)
    return Text("\n".join(lines))


class _FittedTable:
    """The node table as wide as the console allows: with the local factors
    in a column when the whole table fits, else listed below it, one a line,
    so that no number is ever folded across lines."""

    def __init__(self, result: Result, digits: Optional[int], max_rows: Optional[int]) -> None:
        self.result, self.digits, self.max_rows = result, digits, max_rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # The table fits when it does with one local factor a line (then Rich
        # wraps the cells at the ", " between factors, never inside a number).
        # (Measured without the console's limit, which Measurement.get applies.)
        probe = result_table(self.result, digits=self.digits, max_rows=self.max_rows,
                             local_join="\n")
        natural = Measurement.get(console, options.update(max_width=1 << 20), probe).maximum
        if natural <= options.max_width:
            yield result_table(self.result, digits=self.digits, max_rows=self.max_rows)
            return
        yield result_table(self.result, digits=self.digits, max_rows=self.max_rows,
                           local_column=False)
        yield local_factors_text(self.result, digits=self.digits, max_rows=self.max_rows)


def gradient_text(result: Result, digits: Optional[int] = None) -> Text:
    out = cut(result.output, GRADIENT_NAME_WIDTH)
    grad = result.gradient
    if not grad:
        return Text(f"{out} = {format_number(result.value, digits)} does not depend on any variable: "
                    "its gradient is empty")
    text = Text(f"gradient of {out} = {format_number(result.value, digits)}:\n")
    lines = [f"  ∂{out}/∂{cut(name, GRADIENT_NAME_WIDTH)} = {format_number(v, digits)}"
             for name, v in grad.items()]
    text.append("\n".join(lines))
    return text


def conventions_text(result: Result) -> Optional[Text]:
    if not result.conventions:
        return None
    names = [cut(n, GRADIENT_NAME_WIDTH) for n in result.graph.names()]
    lines = [f"{MARK} conventions where a derivative does not exist (as in PyTorch):"]
    lines += [f"  {names[i]}: {'; '.join(notes)}" for i, notes in sorted(result.conventions.items())]
    return Text("\n".join(lines))


def result_renderable(result: Result, *, digits: Optional[int] = None,
                      max_rows: Optional[int] = None) -> Group:
    parts: list[RenderableType] = [Text(f"computation graph of {cut(result.output, GRADIENT_NAME_WIDTH)}"),
                                   _FittedTable(result, digits, max_rows)]
    hidden = elide(_table_rows(result), max_rows)[2]
    if hidden:
        noun = "node" if hidden == 1 else "nodes"
        parts.append(Text(f"{hidden:,} more {noun} not shown: --max-rows N shows more, --json shows all"))
    for note in result.graph.notes:  # (e is an ordinary name here)
        parts.append(Text(f"note: {note}"))
    notes = conventions_text(result)
    if notes is not None:
        parts.append(notes)
    parts.append(Text(""))
    parts.append(gradient_text(result, digits))
    return Group(*parts)
