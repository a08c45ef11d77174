"""The command line for pipelines: `eval --bindings`, `eval --points` (batches)
and `eval --gradcheck`. click and rich only; the work is in batch.py and
gradcheck.py."""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any, Optional

import click

from .errors import InputError, UsageProblem, decode_utf8, escape_text


def read_bindings_option(value: str, stdin_taken: bool) -> dict[str, float]:
    """`--bindings '{"a": 5}'`, `--bindings @point.json` or `--bindings @-` (stdin)."""
    from .batch import read_bindings_json

    if not value.startswith("@"):
        return read_bindings_json(value)
    path = value[1:]
    if path == "-":
        if stdin_taken:
            raise UsageProblem("only one input can come from stdin ('-')")
        raw = sys.stdin.buffer.read()
        source = "<stdin>"
    else:
        source = path
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read {escape_text(path)}: {exc.strerror}") from None
    return read_bindings_json(decode_utf8(raw, source), escape_text(source))


def points_format_of(path: str, given: Optional[str]) -> str:
    if given:
        return given
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    return "ndjson"  # .ndjson, .jsonl, .json, stdin


class _ProgressBar:
    """A rich progress display on stderr, only when stderr is a terminal, and
    only once a batch has run for a second (short batches show nothing)."""

    def __init__(self, total_bytes: Optional[int], stream: Optional[IO[bytes]]) -> None:
        self.total = total_bytes
        self.stream = stream
        self.start = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, points: int, _unused: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=sys.stderr)
            columns: list[Any] = [TextColumn("points: {task.fields[points]}"), TimeElapsedColumn()]
            if self.total:
                columns[1:1] = [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
            self.progress = Progress(*columns, console=console, transient=True)
            self.task = self.progress.add_task("batch", total=self.total, points=0)
            self.progress.start()
        done = None
        if self.total and self.stream is not None:
            try:
                done = self.stream.tell()
            except (OSError, ValueError):
                done = None
        self.progress.update(self.task, completed=done, points=points)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run_points(full: Any, selected: Any, points: str, *, output_format: str, points_format: Optional[str],
               nodes: bool, fail_fast: bool, base: dict[str, float], overrides: dict[str, float],
               stdin_taken: bool) -> None:
    """Run a batch; exit 1 (after the summary on stderr) if any point failed."""
    from .batch import BatchOptions, run_batch
    from .cli import parse_number

    fmt = points_format_of(points, points_format)
    options = BatchOptions(output_format=output_format, points_format=fmt, nodes=nodes,
                           fail_fast=fail_fast, base=base, overrides=overrides)
    if points == "-":
        if stdin_taken:
            raise UsageProblem("only one input can come from stdin ('-'): the program or the points")
        stream: IO[bytes] = sys.stdin.buffer
        size = None
    else:
        try:
            stream = open(points, "rb")  # noqa: SIM115 - closed below
            size = os.fstat(stream.fileno()).st_size or None
        except OSError as exc:
            raise InputError(f"cannot read {escape_text(points)}: {exc.strerror}") from None
    bar = _ProgressBar(size, stream) if _stderr_is_terminal() else None
    sys.stdout.flush()
    try:
        summary = run_batch(full, selected, stream, sys.stdout.buffer, options,
                            parse_value=parse_number, progress=bar)
    finally:
        if bar is not None:
            bar.stop()
        if stream is not sys.stdin.buffer:
            stream.close()
    if summary.failed:
        for line, error in summary.failures[:5]:
            message = error.message
            prefix = f"line {line} "
            click.echo(f"error: {message}" if message.startswith(prefix) else
                       f"error: line {line}: {message}", err=True)
        more = summary.failed - min(5, len(summary.failures))
        if more > 0:
            click.echo(f"  ... and {more} more", err=True)
        stop = " (stopped at the first: --fail-fast)" if summary.stopped else ""
        click.echo(f"{summary.failed} of {summary.points} points failed{stop}; their error "
                   "records are in the output", err=True)
        sys.exit(1)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def print_gradcheck(result: Any, checks: list[Any], as_json: bool, nodes: bool) -> None:
    """The gradcheck report: a table (or JSON with a `gradcheck` object); exit 1
    if a partial derivative disagrees with its central difference."""
    from .gradcheck import gradcheck_dict
    from .numfmt import format_number
    from .render import dumps, result_dict

    passed = all(c.passed for c in checks)
    if as_json:
        doc = result_dict(result, nodes=nodes)
        node_list = doc.pop("nodes", None)
        doc["gradcheck"] = gradcheck_dict(checks)
        if node_list is not None:
            doc["nodes"] = node_list
        click.echo(dumps(doc))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table()
        table.add_column("variable", overflow="fold")
        table.add_column("analytic", justify="right", no_wrap=True)
        table.add_column("numeric", justify="right", no_wrap=True)
        table.add_column("rel. error", justify="right", no_wrap=True)
        table.add_column("result", no_wrap=True)
        for c in checks:
            table.add_row(c.variable, format_number(c.analytic),
                          "-" if c.numeric is None else format_number(c.numeric),
                          "-" if c.relative_error is None else f"{c.relative_error:.1e}",
                          "pass" if c.passed else "FAIL")
        console = Console(highlight=False, emoji=False, markup=False)
        console.print(f"gradient check of {result.output} = {format_number(result.value)}")
        console.print(table)
        for c in checks:
            if c.note:
                console.print(f"{c.variable}: {c.note}")
        console.print("numeric: central difference with h = 1e-6·max(1, |x|)")
        console.print("pass: |analytic - numeric| <= 1e-5 + 1e-3·|numeric|")
        bad = sum(not c.passed for c in checks)
        console.print("gradcheck passed" if passed else f"gradcheck FAILED for {bad} of {len(checks)} "
                      "partial derivatives")
    if not passed:
        if as_json:
            names = ", ".join(c.variable for c in checks if not c.passed)
            click.echo(f"error: gradcheck failed for {names}", err=True)
        sys.exit(1)


__all__ = ["read_bindings_option", "run_points", "print_gradcheck"]
