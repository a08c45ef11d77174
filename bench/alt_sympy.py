"""The batch benchmark's SymPy pipeline: pandas (pyarrow reader) + SymPy
``lambdify(cse=True)`` of the expression and its derivatives + ``to_csv``.

    python bench/alt_sympy.py points.csv > results.csv

Same input and output columns as bench/alt_jax.py. Needs numpy, pandas,
pyarrow and sympy (not autodiff's dependencies).
"""

from __future__ import annotations

import sys

import pandas as pd
import sympy

EXPRESSION = ("sin(a*b+c)*exp(-a/4) + log(1+b*b)*cos(c-d) + exp(sin(a)*cos(b))/(1+c*c) "
              "+ log(2+sin(d*a))*b - a*b*c*d/(1+exp(-c)) + sin(exp(-d*d))*log(3+a*a+b*b) "
              "+ cos(a+b+c+d)")  # bench/batch.py's PROGRAM


def main() -> None:
    df = pd.read_csv(sys.argv[1], engine="pyarrow", dtype="float64")
    symbols = sympy.symbols("a b c d")
    f = sympy.sympify(EXPRESSION, locals=dict(zip("abcd", symbols, strict=True)))
    grads = [sympy.diff(f, s) for s in symbols]
    fn = sympy.lambdify(symbols, [f, *grads], modules="numpy", cse=True)
    value, *grad = fn(*(df[v].to_numpy() for v in "abcd"))
    out = pd.DataFrame({"line": range(2, len(df) + 2)})
    for v in "abcd":
        out[v] = df[v]
    out["f"] = value
    for v, g in zip("abcd", grad, strict=True):
        out[f"df/d{v}"] = g
    out["error"] = ""
    out.to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
