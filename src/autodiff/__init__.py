"""autodiff: a computation graph for a formula, its values, every local
derivative, and every adjoint from one reverse sweep.

    >>> import autodiff
    >>> r = autodiff.differentiate("J = 3*(a + b*c)", {"a": 5, "b": 3, "c": 2})
    >>> r.value, r.gradient
    (33.0, {'a': 3.0, 'b': 6.0, 'c': 9.0})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from .errors import (
    AutodiffError,
    BindingError,
    EvaluationError,
    InputError,
    OutputError,
    ProgramError,
    SyntaxProblem,
)
from .evaluate import Result, backward, evaluate, forward
from .graph import Graph
from .parser import parse

if TYPE_CHECKING:  # (loaded lazily: plain evaluation never imports them)
    from .higher import ForwardResult, HessianResult, JacobianResult, TaylorResult
    from .rationals import ExactResult

__version__ = "0.1.0"

__all__ = [
    "AutodiffError", "BindingError", "EvaluationError", "InputError", "OutputError", "ProgramError",
    "SyntaxProblem", "Graph", "Result", "parse", "evaluate", "forward", "backward",
    "differentiate", "compile", "forward_mode", "jacobian", "hessian", "hvp", "taylor", "exact",
    "__version__",
]


def differentiate(program: str, bindings: Mapping[str, float], *, output: Optional[str] = None,
                  source: str = "", max_chars: Optional[int] = None, keep_local: bool = True,
                  allowed: Optional[set[str]] = None) -> Result:
    """Parse `program`, evaluate it at `bindings` and differentiate its output
    (the last statement, or the assigned name `output`).

    The one path from text to a result: the command line, check files and
    batches all come through here. `source` names where the text came from
    (for messages), `max_chars` refuses longer programs, `keep_local=False`
    skips keeping each edge's local factor (faster when only the gradient is
    wanted), and `allowed` widens the names a binding may have."""
    graph = parse(program, source=source, max_chars=max_chars)
    selected = graph.select(output)
    return evaluate(selected, bindings, keep_local=keep_local, allowed=allowed)


def compile_arrays(program: str, *, output: Optional[str] = None) -> Any:
    """Compile `program` for arrays: the returned function computes the value
    and the gradient at many points at once from NumPy arrays (one per
    variable, keywords, a mapping or DataFrame, or a 2-D array), and returns an
    `autodiff.arrays.ArrayResult` whose per-point error mask has the kinds of
    `eval`. Needs NumPy (``pip install 'autodiff[fast]'``); imported only here."""
    try:
        from .arrays import compile as compile_arrays
    except ImportError as exc:  # NumPy missing
        raise ImportError("autodiff.compile needs NumPy: pip install 'autodiff[fast]'") from exc
    return compile_arrays(program, output=output)


compile = compile_arrays  # noqa: A001 - autodiff.compile (also what the module autodiff.compile calls)


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext autodiff` in Jupyter: the `%%autodiff` cell magic (IPython
    is imported only then, never by `import autodiff`)."""
    from .notebook import load_ipython_extension as load

    load(ipython)


# ---- beyond one gradient (issue 11); the modules load on first use


def _graph(program: str, output: Optional[str], source: str, max_chars: Optional[int]) -> Graph:
    return parse(program, source=source, max_chars=max_chars).select(output)


def forward_mode(program: str, bindings: Mapping[str, float],
                 seed: Optional[Mapping[str, float]] = None, *, output: Optional[str] = None,
                 source: str = "", max_chars: Optional[int] = None) -> ForwardResult:
    """Forward mode: with `seed` (a direction, input -> component), every node's
    tangent and the directional derivative (`.derivative`) in one sweep;
    without, the gradient from one sweep per input (`.gradient`, `.sweeps`)."""
    from .higher import forward_mode as run

    return run(_graph(program, output, source, max_chars), bindings, seed)


def jacobian(program: str, bindings: Mapping[str, float], outputs: Optional[Sequence[str]] = None,
             *, mode: Optional[str] = None, source: str = "",
             max_chars: Optional[int] = None) -> JacobianResult:
    """∂output/∂input for several assigned names (`["all"]`: every one):
    `.matrix` rows are `.outputs`, columns `.inputs`; `.mode` says whether it
    took one reverse sweep per output or one forward sweep per input (the
    fewer, unless `mode` forces one)."""
    from .higher import jacobian as run

    return run(parse(program, source=source, max_chars=max_chars), bindings, outputs, mode=mode)


def hessian(program: str, bindings: Mapping[str, float], *, output: Optional[str] = None,
            source: str = "", max_chars: Optional[int] = None) -> HessianResult:
    """The matrix of second partial derivatives of the output (`.matrix`,
    rows and columns `.inputs`), forward over reverse."""
    from .higher import hessian as run

    return run(_graph(program, output, source, max_chars), bindings)


def hvp(program: str, bindings: Mapping[str, float], vector: Mapping[str, float], *,
        output: Optional[str] = None, source: str = "",
        max_chars: Optional[int] = None) -> HessianResult:
    """The Hessian-vector product H·v (`.product`) without building H."""
    from .higher import hvp as run

    return run(_graph(program, output, source, max_chars), bindings, vector)


def taylor(program: str, bindings: Mapping[str, float], variable: Optional[str] = None,
           order: int = 2, *, output: Optional[str] = None, source: str = "",
           max_chars: Optional[int] = None) -> TaylorResult:
    """f, f', ..., f⁽ᴺ⁾ along one variable (`.derivatives`; `.coefficients`
    are the Taylor coefficients f⁽ᵏ⁾/k!), in one pass."""
    from .higher import taylor as run

    return run(_graph(program, output, source, max_chars), bindings, variable, order)


def exact(program: str, bindings: Mapping[str, Any], *, auto: bool = False,
          output: Optional[str] = None, source: str = "",
          max_chars: Optional[int] = None) -> ExactResult:
    """Values and gradient as fractions.Fraction (bindings may be "1/3",
    "0.1", ints, Fractions). An operation that leaves the rationals is an
    error, or with `auto` is evaluated in floating point and marked."""
    from .rationals import evaluate_exact

    return evaluate_exact(_graph(program, output, source, max_chars), bindings, auto=auto)
