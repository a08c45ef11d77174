"""autodiff: a computation graph for a formula, its values, every local
derivative, and every adjoint from one reverse sweep.

    >>> import autodiff
    >>> r = autodiff.differentiate("J = 3*(a + b*c)", {"a": 5, "b": 3, "c": 2})
    >>> r.value, r.gradient
    (33.0, {'a': 3.0, 'b': 6.0, 'c': 9.0})
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

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

__version__ = "0.1.0"

__all__ = [
    "AutodiffError", "BindingError", "EvaluationError", "InputError", "OutputError", "ProgramError",
    "SyntaxProblem", "Graph", "Result", "parse", "evaluate", "forward", "backward",
    "differentiate", "compile", "__version__",
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
