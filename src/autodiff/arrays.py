"""Arrays: a program compiled once into NumPy source that evaluates the value
and the gradient at many points at once.

    >>> import numpy as np, autodiff
    >>> f = autodiff.compile("f = x*y + sin(x)")
    >>> r = f(x=np.array([0.0, 1.0]), y=np.array([2.0, 3.0]))
    >>> r.value.tolist(), r.gradient["x"].tolist(), r.failed.tolist()
    ([0.0, 3.8414709848078967], [3.0, 3.5403023058681398], [False, False])

`numpy_kernel` writes the two sweeps of `compile.compile_graph` as
straight-line NumPy source: one statement per node (each row's `np`
spelling from the ops table), the reverse sweep unrolled in the
interpreter's order, one array per node. The source is built only from the
graph's integers, the table's fixed templates and ``repr`` of finite floats,
never from the user's text (as compile.py; a character check guards it).

NumPy does not raise: a domain error is a NaN, an overflow an infinity. One
sum over the inputs, every node's value and the gradient finds the points
where anything was not finite (a NaN or an infinity anywhere reaches that
sum; a finite sum that overflows is a false alarm), and only those points are
evaluated again by the scalar interpreter, which gives the exact error `eval`
gives there (kind and message naming the node), or the exact result. So an
error at some points never stops the others.

Arithmetic (+ - * /, comparisons, np.where) is IEEE as in the scalar path;
NumPy's elementary functions (np.sin, np.exp, ...) may differ from the C
library's by an ulp or so, so values agree with `eval` to within about an ulp
per operation, not bit for bit.

NumPy is imported here only: `autodiff eval` never imports this module.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Iterator, Optional

import numpy as np

from .compile import _literal, write_reverse
from .errors import AutodiffError, BindingError, ProgramError, name_list
from .evaluate import evaluate, unused_binding
from .graph import Graph
from .ops import NUMPY_NAMES, Op
from .parser import parse

__all__ = ["Function", "ArrayResult", "NotVectorizable", "compile", "numpy_kernel", "Kernel", "BLOCK"]

#: points evaluated per block: every intermediate array of a block stays in
#: the CPU's cache (whole-column arrays of 8 MB each would not)
BLOCK = 4096

_ALLOWED = set("abcdefghijklmnopqrstuvwxyz_0123456789.+-*/(), =:<>&!")


class NotVectorizable(ProgramError):
    """An operation of the program has no NumPy spelling in the ops table."""


class Kernel:
    """A graph's sweeps as NumPy source: ``run(columns) -> (out, bad)`` with
    ``out[0]`` the value, ``out[1 + k]`` the gradient with respect to
    ``variables[k]``, and ``bad`` the points where something was not finite."""

    def __init__(self, graph: Graph, fn: Any, variables: tuple[str, ...], source: str) -> None:
        self.graph = graph
        self.fn = fn
        self.variables = variables
        self.source = source

    def run(self, columns: list[Any], n: int, block: int = BLOCK) -> tuple[Any, Any]:
        out = np.empty((len(self.variables) + 1, n))
        bad = np.empty(n, dtype=bool)
        fn = self.fn
        with np.errstate(all="ignore"):
            for s in range(0, n, block):
                e = min(n, s + block)
                results, check = fn(*[c[s:e] for c in columns])
                for k, r in enumerate(results):
                    out[k, s:e] = r
                np.isfinite(check, out=bad[s:e])
        np.logical_not(bad, out=bad)
        return out, bad


def numpy_kernel(graph: Graph) -> Kernel:
    """Compile `graph` (a validated graph, as `Graph.select` returns) into a
    Kernel; NotVectorizable names an operation without a NumPy spelling."""
    out = graph.output
    ops, leaf = graph.op, graph.const
    variables = tuple(graph.output_variables())
    var_index = {graph.variables[v] for v in variables}
    for i in range(out + 1):
        op = ops[i]
        if op is not None and (op.np is None or any(
                p.np is None and p.const not in (1.0, -1.0) for p in op.partials)):
            raise NotVectorizable(f"the operation {op.name} has no NumPy form yet, so this program "
                                  "cannot run on arrays (eval and --points evaluate it point by point)")

    def ref(j: int) -> str:
        value = leaf[j]
        if ops[j] is None and value is not None:
            return _literal(value)
        if ops[j] is None and j not in var_index:
            return "0.0"
        return f"v{j}"

    body: list[str] = []
    checked: list[str] = [f"v{graph.variables[v]}" for v in variables]
    for i in range(out + 1):
        op = ops[i]
        if op is None:
            continue
        assert op.np is not None
        body.append(f"v{i} = {op.np.format(*[ref(j) for j in graph.args(i)])}")
        checked.append(f"v{i}")
    gradient, grad_checked = write_reverse(graph, variables, body, ref, _contribution)
    checked += grad_checked
    # one sum over everything: a NaN or an infinity anywhere makes it non-finite
    if not checked:
        body.append("c = 0.0")
    else:
        body.append(f"c = {checked[0]} + 0.0")
        body.extend(f"c += {name}" for name in checked[1:])
    body.append(f"return ({', '.join([ref(out)] + gradient)},), c")
    for line in body:
        if not set(line) <= _ALLOWED:
            raise ValueError(f"unexpected text in generated code: {line!r}")
    params = ", ".join(f"v{graph.variables[v]}" for v in variables)
    source = f"def columns({params}):\n" + "".join(f"    {line}\n" for line in body)
    namespace: dict[str, Any] = {"np": np, **NUMPY_NAMES}
    exec(builtins.compile(source, "<autodiff numpy kernel>", "exec"), namespace)  # noqa: S102 - see module doc
    return Kernel(graph, namespace["columns"], variables, source)


def pointwise_kernel(graph: Graph) -> Kernel:
    """A Kernel for a graph with an operation that has no NumPy form (sum,
    max of many arguments, erf, ...): the scalar compiled sweeps (compile.py,
    bit for bit the interpreter) run point by point. Slower than a NumPy
    kernel, but the same API and results; a point that fails is NaN here and
    the caller asks the interpreter for its error, as for NumPy kernels."""
    from .compile import compile_graph

    variables = tuple(graph.output_variables())
    compiled = compile_graph(graph)
    width = len(variables) + 1

    def point(xs: list[float]) -> Any:
        if compiled is not None:
            return compiled.fn(*xs)
        r = evaluate(graph, dict(zip(variables, xs, strict=True)), keep_local=False)
        return (r.value, *(r.gradient[v] for v in variables))

    def columns(*cols: Any) -> tuple[list[Any], Any]:
        m = len(cols[0]) if cols else 1
        res = np.full((width, m), np.nan)
        for r in range(m):
            try:
                res[:, r] = point([float(c[r]) for c in cols])
            except Exception:  # noqa: BLE001 - NaN: the interpreter names the error at this point
                pass
        return list(res), res.sum(axis=0)

    return Kernel(graph, columns, variables, "# evaluated point by point (no NumPy form)\n")


def _contribution(op: Op, k: int, g: str, args: list[str], out: str) -> str:
    p = op.partials[k]
    if p.const == 1.0:
        return g
    if p.const == -1.0:
        return f"-{g}"
    assert p.np is not None
    return f"{g} * ({p.np.format(*args, out=out)})"


class ArrayResult:
    """The value and the gradient at every point, and what failed where.

    value     array of the output's values (NaN where the point failed)
    gradient  dict: variable -> array of ∂output/∂variable (NaN where failed)
    failed    bool array, True where the point failed
    kinds     array of error kinds ("" where the point is fine): the kinds of
              `eval` (domain, division_by_zero, overflow, derivative, binding)
    errors    dict: flat point index -> the AutodiffError `eval` raises there
    """

    def __init__(self, output: str, variables: tuple[str, ...], out: Any, failed: Any,
                 errors: dict[int, AutodiffError], shape: tuple[int, ...]) -> None:
        self.output = output
        self.variables = variables
        self.value = out[0].reshape(shape)
        self.gradient = {v: out[1 + k].reshape(shape) for k, v in enumerate(variables)}
        self.failed = failed.reshape(shape)
        kinds = np.full(failed.shape, "", dtype=object)
        for i, exc in errors.items():
            kinds[i] = exc.kind
        self.kinds = kinds.reshape(shape)
        self.errors = errors

    def __len__(self) -> int:
        return int(self.failed.size)

    def __repr__(self) -> str:
        return (f"<ArrayResult {self.output} at {self.failed.size} points, "
                f"{int(self.failed.sum())} failed>")


class Function:
    """``autodiff.compile(program)``: call it with arrays to get an ArrayResult.

    Columns are given as positional arrays in the order of `variables`, as
    keywords (``f(x=xs, y=ys)``), as one mapping or DataFrame (columns the
    output does not use are ignored), or as one 2-D array with a column per
    variable (``f(X)``, X of shape (n, len(f.variables)), for two or more
    variables). Scalars and arrays broadcast against each other. It pickles
    as its program text and compiles again where it is unpickled (so Dask or
    Spark can ship it to workers)."""

    def __init__(self, program: str, output: Optional[str] = None) -> None:
        self.program = program
        self.output_name = output
        self._kernel: Optional[Kernel] = None
        self._build()

    def _build(self) -> Kernel:
        if self._kernel is None:
            selected = parse(self.program).select(self.output_name)
            try:
                self._kernel = numpy_kernel(selected)
            except NotVectorizable:
                self._kernel = pointwise_kernel(selected)
        return self._kernel

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the output depends on, in first-use order."""
        return self._build().variables

    @property
    def output(self) -> str:
        return self._build().graph.output_name

    @property
    def source(self) -> str:
        """The generated NumPy source (for the curious; it is what runs)."""
        return self._build().source

    def __getstate__(self) -> dict[str, Any]:
        return {"program": self.program, "output": self.output_name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.program = state["program"]
        self.output_name = state["output"]
        self._kernel = None  # compiled again on first use

    def __repr__(self) -> str:
        kernel = self._build()
        return f"<autodiff.Function {kernel.graph.output_name}({', '.join(kernel.variables)})>"

    def columns(self, *args: Any, **kwargs: Any) -> list[Any]:
        """The input columns in the order of `variables`, as float64 arrays
        (not yet broadcast)."""
        variables = self.variables
        if args and kwargs:
            raise TypeError("give the columns either by position or by name, not both")
        if len(args) == 1 and hasattr(args[0], "keys") and not isinstance(args[0], np.ndarray):
            kwargs = {v: args[0][v] for v in variables if v in args[0].keys()}
            args = ()
        elif len(args) == 1 and len(variables) > 1 and np.ndim(args[0]) == 2:
            matrix = np.asarray(args[0], dtype=np.float64)
            if matrix.shape[1] != len(variables):
                raise BindingError(f"a 2-D array needs one column per variable ({len(variables)}: "
                                   f"{', '.join(variables)}); it has {matrix.shape[1]}")
            args = tuple(matrix[:, k] for k in range(len(variables)))
        if kwargs:
            unknown = [k for k in kwargs if k not in variables]
            if unknown:
                raise unused_binding(self._build().graph, unknown[0])
            missing = [v for v in variables if v not in kwargs]
            if missing:
                raise BindingError(f"no values for {name_list(missing)}", missing[0])
            args = tuple(kwargs[v] for v in variables)
        if len(args) != len(variables):
            raise BindingError(f"{len(variables)} columns needed ({', '.join(variables)}); "
                               f"{len(args)} given")
        return [np.asarray(a, dtype=np.float64) for a in args]

    def __call__(self, *args: Any, **kwargs: Any) -> ArrayResult:
        kernel = self._build()
        cols = self.columns(*args, **kwargs)
        shape = np.broadcast_shapes(*(c.shape for c in cols)) if cols else ()
        flat = [np.ascontiguousarray(np.broadcast_to(c, shape)).reshape(-1) for c in cols]
        n = math.prod(shape)
        out, bad = kernel.run(flat, n)
        errors = dict(rescue(kernel, flat, out, bad))
        return ArrayResult(kernel.graph.output_name, kernel.variables, out, bad, errors, shape)


def rescue(kernel: Kernel, columns: list[Any], out: Any, bad: Any
           ) -> Iterator[tuple[int, AutodiffError]]:
    """Evaluate each point flagged in `bad` again with the scalar interpreter:
    its exact result replaces the row of `out` (and clears `bad`), or its
    error is yielded (the row of `out` is then NaN)."""
    graph, variables = kernel.graph, kernel.variables
    for i in np.flatnonzero(bad).tolist():
        bindings = {v: float(c[i]) for v, c in zip(variables, columns, strict=True)}
        try:
            r = evaluate(graph, bindings, keep_local=False)
        except AutodiffError as exc:
            out[:, i] = np.nan
            yield i, exc
            continue
        out[0, i] = r.value
        grad = r.gradient
        for k, v in enumerate(variables):
            out[1 + k, i] = grad[v]
        bad[i] = False


def compile(program: str, *, output: Optional[str] = None) -> Function:  # noqa: A001 - the API's name
    """Compile `program` (autodiff's language) for arrays: the returned
    Function computes the value of its output (the last statement, or the
    assigned name `output`) and the gradient at many points at once."""
    return Function(program, output)

