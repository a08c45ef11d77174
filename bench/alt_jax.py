"""The batch benchmark's JAX pipeline: pandas (pyarrow reader) + JAX
``jit(vmap(value_and_grad))`` + ``to_csv``, as a data scientist would write it.

    python bench/alt_jax.py points.csv > results.csv

Reads the CSV points of bench/batch.py's 52-operation program (columns a, b,
c, d), computes the value and the gradient in float64 and writes the same
columns as ``autodiff eval --format csv`` (line, inputs, value, gradient,
error). Needs numpy, pandas, pyarrow and jax (not autodiff's dependencies).
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import pandas as pd

jax.config.update("jax_enable_x64", True)


def model(a, b, c, d):  # bench/batch.py's PROGRAM, written with jnp
    sin, cos, exp, log = jnp.sin, jnp.cos, jnp.exp, jnp.log
    return (sin(a*b+c)*exp(-a/4) + log(1+b*b)*cos(c-d) + exp(sin(a)*cos(b))/(1+c*c)
            + log(2+sin(d*a))*b - a*b*c*d/(1+exp(-c)) + sin(exp(-d*d))*log(3+a*a+b*b)
            + cos(a+b+c+d))


def main() -> None:
    df = pd.read_csv(sys.argv[1], engine="pyarrow", dtype="float64")
    cols = [jnp.asarray(df[v].to_numpy()) for v in "abcd"]
    fn = jax.jit(jax.vmap(jax.value_and_grad(model, argnums=(0, 1, 2, 3))))
    value, grads = fn(*cols)
    out = pd.DataFrame({"line": range(2, len(df) + 2)})
    for v in "abcd":
        out[v] = df[v]
    out["f"] = jax.device_get(value)
    for v, g in zip("abcd", grads, strict=True):
        out[f"df/d{v}"] = jax.device_get(g)
    out["error"] = ""
    out.to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
