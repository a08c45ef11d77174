"""The command-line side of `autodiff eval`'s options beyond one gradient (issue
11): --mode, --seed, --of J,K / --of all, --hessian, --hvp, --order (--wrt),
--exact[=auto] (declared in cli/common.py). The maths is in higher.py and
rationals.py, the tables and JSON in higher_render.py; loaded only when one of
these options is given."""

from __future__ import annotations

from typing import Any, Optional

from .cli.common import ProgramArgs, parse_direction, refuse_unless, write_json


def check_options(prog: ProgramArgs, fmt: str, *, mode: Optional[str], seed: Optional[str],
                  hessian: bool, hvp: Optional[str], order: Optional[int], wrt: Optional[str],
                  exact: Optional[str], points: Optional[str], gradcheck: bool) -> None:
    several = bool(prog.output and ("," in prog.output or prog.output == "all"))
    chosen = [name for name, given in (("--hessian", hessian), ("--hvp", hvp is not None),
                                       ("--order", order is not None), ("--exact", exact),
                                       ("--of with several names", several),
                                       ("--mode forward/both", mode not in (None, "reverse")))
              if given]
    refuse_unless(len(chosen) <= 1, f"{' and '.join(chosen[:2])} are separate computations: "
                  "give one at a time")
    refuse_unless(seed is None or mode in ("forward", "both"),
                  "--seed is a direction for forward mode: add --mode forward")
    refuse_unless(wrt is None or order is not None, "--wrt names the variable of --order N")
    refuse_unless(points is None or not chosen or chosen == ["--of with several names"],
                  f"{chosen[0] if chosen else ''} works at one point; it does not work with --points")
    refuse_unless(not gradcheck or not chosen,
                  f"--gradcheck checks one gradient; it does not work with {chosen[0] if chosen else ''}")
    if points is None:
        refuse_unless(fmt in ("table", "json"), f"--format {fmt} is for batches")
    else:
        refuse_unless(fmt == "ndjson", "--of with several names and --points: one Jacobian "
                      "document per point, as NDJSON (--format ndjson)")


def run_jacobian_points(prog: ProgramArgs, points: str, points_format: Optional[str]) -> None:
    """One Jacobian document per point of an NDJSON or CSV file (NDJSON out,
    each with "line"); a bad point gives an error record in its place, and the
    exit code is then 1."""
    import json
    import sys

    import click

    from .cli.eval import points_format_of
    from .errors import AutodiffError, InputError
    from .higher import jacobian
    from .higher_render import jacobian_doc
    from .render import error_dict

    graph = prog.parse()
    base, overrides = prog.bindings(stdin_taken=points == "-")
    output = prog.output or ""
    names = [n.strip() for n in output.split(",")] if output != "all" else ["all"]
    if points == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(points, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot read {points}: {exc.strerror}") from None
    fmt = points_format_of(points, points_format)
    rows = _points(stream, fmt == "csv")
    compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    failed = total = 0
    try:
        for number, point in rows:
            if point is None:
                continue
            total += 1
            try:
                if isinstance(point, AutodiffError):
                    raise point
                j = jacobian(graph, {**base, **point, **overrides}, names)
                doc = jacobian_doc(j)
                doc = {"schema": doc.pop("schema"), "line": number, **doc}
            except AutodiffError as exc:
                failed += 1
                doc = error_dict(exc, line=number)
            click.echo(compact(doc))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if failed:
        sys.stdout.flush()
        click.echo(f"{failed} of {total} points failed; their error records are in the output",
                   err=True)
        sys.exit(1)


def run(prog: ProgramArgs, fmt: str, no_nodes: bool, max_rows: int, *, mode: Optional[str],
        seed: Optional[str], hessian: bool, hvp: Optional[str], order: Optional[int],
        wrt: Optional[str], exact: Optional[str]) -> None:
    from rich.console import Console

    from . import higher_render as hr

    as_json = fmt == "json"
    digits = prog.digits
    console = Console(highlight=False, emoji=False, markup=False)

    def show(doc: Any, renderable: Any) -> None:
        if as_json:
            from .render import iter_json

            write_json(iter_json(doc))
        else:
            console.print(renderable)

    if exact:
        from .rationals import evaluate_exact

        base, overrides = prog.bindings(exact=True)
        graph = prog.select(prog.parse())
        r = evaluate_exact(graph, {**base, **overrides}, auto=exact == "auto")
        show(hr.exact_doc(r, nodes=not no_nodes) if as_json else None,
             None if as_json else hr.exact_renderable(r, max_rows))
        return
    base, overrides = prog.bindings()
    bindings = {**base, **overrides}
    graph = prog.parse()
    if prog.output and ("," in prog.output or prog.output == "all"):
        from .higher import jacobian

        names = [n.strip() for n in prog.output.split(",")] if prog.output != "all" else ["all"]
        j = jacobian(graph, bindings, names)
        show(hr.jacobian_doc(j) if as_json else None,
             None if as_json else hr.jacobian_renderable(j, digits))
        return
    selected = prog.select(graph)
    if hessian or hvp is not None:
        from . import higher

        h = (higher.hessian(selected, bindings) if hessian else
             higher.hvp(selected, bindings, parse_direction(hvp or "", "--hvp")))
        show(hr.hessian_doc(h) if as_json else None,
             None if as_json else hr.hessian_renderable(h, digits))
        return
    if order is not None:
        from .evaluate import evaluate
        from .higher import taylor

        t = taylor(selected, bindings, wrt, order)
        if as_json:
            plain = evaluate(selected, bindings, keep_local=False)
            show(hr.taylor_doc(t, plain.value, plain.gradient), None)
        else:
            show(None, hr.taylor_renderable(t, digits))
        return
    from .higher import forward_mode

    direction = parse_direction(seed, "--seed") if seed else None
    fwd = forward_mode(selected, bindings, direction)
    reverse = None
    if mode == "both":
        from .evaluate import evaluate

        reverse = evaluate(selected, bindings, keep_local=True)
    show(hr.forward_doc(fwd, reverse, nodes=not no_nodes) if as_json else None,
         None if as_json else hr.forward_renderable(fwd, reverse, digits))


def _points(stream: Any, csv_format: bool) -> Any:
    """(line number, point or error) for each point of an NDJSON or CSV stream
    (a header row of names; values parsed as eval's bindings are)."""
    import io
    import json

    from .batch import PointError
    from .cli.common import parse_number
    from .errors import AutodiffError

    text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
    names: Optional[list[str]] = None
    for number, line in enumerate(text, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        point: Any
        try:
            if csv_format:
                import csv

                cells = next(csv.reader([line]))
                if names is None:
                    names = [c.strip() for c in cells]
                    continue
                if len(cells) != len(names):
                    raise PointError(f"line {number} has {len(cells)} cells, the header {len(names)}")
                point = {n: parse_number(c.strip(), n) for n, c in zip(names, cells, strict=True)}
            else:
                point = json.loads(line)
                if type(point) is not dict:
                    raise PointError(f"line {number} is not a JSON object of variable values")
        except ValueError as exc:
            point = PointError(f"line {number} is not valid JSON: {exc}")
        except AutodiffError as exc:
            point = exc
        yield number, point
