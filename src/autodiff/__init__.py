"""autodiff: a computation graph for a formula, its values, every local
derivative, and every adjoint from one reverse sweep.

    >>> import autodiff
    >>> r = autodiff.differentiate("J = 3*(a + b*c)", {"a": 5, "b": 3, "c": 2})
    >>> r.value, r.gradient
    (33.0, {'a': 3.0, 'b': 6.0, 'c': 9.0})
"""

from __future__ import annotations

from typing import Mapping, Optional

from .errors import AutodiffError, BindingError, EvaluationError, InputError, ProgramError, SyntaxProblem
from .evaluate import Result, backward, evaluate, forward
from .graph import Graph
from .parser import parse

__version__ = "0.1.0"

__all__ = [
    "AutodiffError", "BindingError", "EvaluationError", "InputError", "ProgramError",
    "SyntaxProblem", "Graph", "Result", "parse", "evaluate", "forward", "backward",
    "differentiate", "__version__",
]


def differentiate(program: str, bindings: Mapping[str, float], *, output: Optional[str] = None,
                  keep_local: bool = True) -> Result:
    """Parse `program`, evaluate it at `bindings` and differentiate its output
    (the last statement, or the assigned name `output`)."""
    graph = parse(program)
    selected = graph.select(output)
    return evaluate(selected, bindings, keep_local=keep_local)
