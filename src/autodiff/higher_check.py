"""Check-file expectations beyond one gradient (issue 11):

    [[case]]
    program = "x^3*y + y^2"
    bindings = { x = 2, y = 3 }
    expect = { hessian = { x = { x = 36, y = 12 }, y = { x = 12, y = 2 } } }

    expect.jacobian = { u = { x = 2, y = 1 }, v = { x = 1, y = 1 } }  # rows: assigned names
    expect.taylor   = { x = [0.4621, 0.7864, -0.7269] }               # f, f', f'' along x
    expect.exact    = { value = "1/81", gradient = { x = "1/9" } }    # rationals, compared exactly

Numbers are compared with the case's rel/abs tolerances; exact ones must be
equal. `validate` checks a file's tables when it is read; `problems` runs a
case's expectations; `fill` gives the current results for `check --update`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

from .numfmt import format_number

__all__ = ["KEYS", "validate", "problems", "fill"]

KEYS = ("hessian", "jacobian", "taylor", "exact")


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _matrix_ok(table: Any) -> bool:
    return isinstance(table, Mapping) and bool(table) and all(
        isinstance(row, Mapping) and all(_num(v) for v in row.values()) for row in table.values())


def validate(expect: Mapping[str, Any]) -> Optional[str]:
    """What is wrong with the issue-11 keys of an expect table, or None."""
    if "hessian" in expect and not _matrix_ok(expect["hessian"]):
        return "expect.hessian must be a table of tables of finite numbers ({ x = { x = 2, y = 1 }, ... })"
    if "jacobian" in expect and not _matrix_ok(expect["jacobian"]):
        return ("expect.jacobian must be a table, one table of finite numbers per output "
                "({ u = { x = 1 }, v = { x = 2 } })")
    t = expect.get("taylor")
    if t is not None and not (isinstance(t, Mapping) and len(t) == 1 and all(
            isinstance(v, list) and v and all(_num(c) for c in v) for v in t.values())):
        return "expect.taylor must be one variable and its derivatives f, f', ...: { x = [1, 2, 2] }"
    e = expect.get("exact")
    if e is not None:
        from .rationals import to_fraction

        ok = isinstance(e, Mapping) and set(e) <= {"value", "gradient"}
        try:
            if ok and "value" in e:
                to_fraction(e["value"])
            if ok and "gradient" in e:
                ok = isinstance(e["gradient"], Mapping)
                for v in e["gradient"].values():
                    to_fraction(v)
        except Exception:  # noqa: BLE001 - any malformed number
            ok = False
        if not ok:
            return 'expect.exact must be { value = "1/9", gradient = { x = "1/3" } } (rationals)'
    return None


def problems(program: str, bindings: Mapping[str, Any], output: Optional[str],
             expect: Mapping[str, Any], close: Callable[[str, float, float], Optional[str]]
             ) -> list[str]:
    """Each mismatch of the issue-11 expectations, as a line; `close(what,
    got, want)` is the check's own comparison (its tolerances)."""
    import autodiff

    from .higher import hessian, jacobian, taylor
    from .rationals import exact_text, to_fraction

    out: list[str] = []
    parsed = autodiff.parse(program)
    graph = parsed.select(output)
    floats = {k: float(to_fraction(v)) if isinstance(v, str) else v for k, v in bindings.items()}

    def matrix(what: str, got_rows: list[str], got_cols: list[str], got: list[list[float]],
               want: Mapping[str, Mapping[str, Any]]) -> None:
        for r, row in want.items():
            if r not in got_rows:
                out.append(f"{what}.{r}: not a row (rows: {', '.join(got_rows)})")
                continue
            for c, w in row.items():
                g = got[got_rows.index(r)][got_cols.index(c)] if c in got_cols else 0.0
                p = close(f"{what}.{r}.{c}", g, float(w))
                if p:
                    out.append(p)

    if "hessian" in expect:
        h = hessian(graph, floats)
        assert h.matrix is not None
        matrix("hessian", h.inputs, h.inputs, h.matrix, expect["hessian"])
    if "jacobian" in expect:
        j = jacobian(parsed, floats, list(expect["jacobian"]))
        matrix("jacobian", j.outputs, j.inputs, j.matrix, expect["jacobian"])
    if "taylor" in expect:
        ((var, want),) = expect["taylor"].items()
        t = taylor(graph, floats, var, len(want) - 1)
        for k, (g, w) in enumerate(zip(t.derivatives, want, strict=True)):
            p = close(f"taylor.{var}[{k}]", g, float(w))
            if p:
                out.append(p)
    if "exact" in expect:
        from .rationals import evaluate_exact

        r = evaluate_exact(graph, bindings)
        e = expect["exact"]
        if "value" in e and r.value != to_fraction(e["value"]):
            out.append(f"exact.value expected {e['value']} got {exact_text(r.value)}")
        for name, w in e.get("gradient", {}).items():
            d = r.gradient.get(name)
            if d is None or d != to_fraction(w):
                out.append(f"exact.gradient.{name} expected {w} got "
                           f"{'nothing' if d is None else exact_text(d)}")
    return out


def fill(program: str, bindings: Mapping[str, Any], output: Optional[str],
         old: Mapping[str, Any]) -> dict[str, Any]:
    """The current results for the issue-11 keys present in `old` (check --update)."""
    import autodiff

    from .higher import hessian, jacobian, taylor
    from .rationals import evaluate_exact, exact_text, to_fraction

    new: dict[str, Any] = {}
    parsed = autodiff.parse(program)
    graph = parsed.select(output)
    floats = {k: float(to_fraction(v)) if isinstance(v, str) else v for k, v in bindings.items()}

    def n(x: float) -> Any:
        return int(x) if x.is_integer() and abs(x) < 2**53 else x

    if "hessian" in old:
        h = hessian(graph, floats)
        assert h.matrix is not None
        new["hessian"] = {r: {c: n(h.matrix[i][k]) for k, c in enumerate(h.inputs)}
                          for i, r in enumerate(h.inputs)}
    if "jacobian" in old:
        j = jacobian(parsed, floats, list(old["jacobian"]))
        new["jacobian"] = {r: {c: n(j.matrix[i][k]) for k, c in enumerate(j.inputs)}
                           for i, r in enumerate(j.outputs)}
    if "taylor" in old:
        ((var, want),) = old["taylor"].items()
        t = taylor(graph, floats, var, max(0, len(want) - 1))
        new["taylor"] = {var: [n(float(format_number(x))) for x in t.derivatives]}
    if "exact" in old:
        r = evaluate_exact(graph, bindings)
        new["exact"] = {"value": exact_text(r.value),
                        "gradient": {k: exact_text(v) for k, v in r.gradient.items()}}
    return new
