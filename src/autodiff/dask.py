"""Past one machine: the value and the gradient of a program over a Dask
dataframe, one partition at a time, wherever Dask runs them.

    import dask.dataframe as dd
    from dask.distributed import Client
    import autodiff.dask

    client = Client("scheduler:8786")               # a real cluster
    points = dd.read_parquet("s3://bucket/points/")  # columns named as the program's variables
    result = autodiff.dask.gradient(points, open("model.ad").read())
    result.to_parquet("s3://bucket/gradients/")

Each partition runs `autodiff.compile(program)` on its columns (a pandas
DataFrame is a mapping of columns). The compiled function pickles as its
program text, so Dask ships a few hundred bytes and each worker compiles once.
Nothing here distributes anything: Dask does.

Needs dask[dataframe] and pandas (not autodiff's dependencies); imported only here.
"""

from __future__ import annotations

from typing import Any, Optional

from .arrays import Function
from .arrays import compile as compile_arrays

__all__ = ["gradient", "partition"]


def columns_of(fn: Function) -> list[str]:
    """The result columns: the output, one gradient column per variable, error."""
    out = fn.output
    return [out, *(f"d{out}/d{v}" for v in fn.variables), "error"]


def partition(df: Any, fn: Function) -> Any:
    """One pandas DataFrame's result (same index): the output's value, the
    gradient columns ``d{output}/d{variable}`` (NaN where the point failed)
    and ``error`` (``kind: message`` where it failed, else empty), as the CSV
    output of ``autodiff eval --points`` names them."""
    import pandas as pd  # type: ignore[import-untyped]

    r = fn(df)
    data: dict[str, Any] = {fn.output: r.value}
    for v in fn.variables:
        data[f"d{fn.output}/d{v}"] = r.gradient[v]
    errors = [""] * len(df)
    for i, exc in r.errors.items():
        errors[i] = f"{exc.kind}: {exc.message}"
    data["error"] = pd.Series(errors, index=df.index, dtype=object)
    return pd.DataFrame(data, index=df.index)


def gradient(ddf: Any, program: str, *, output: Optional[str] = None) -> Any:
    """A lazy Dask dataframe of `program`'s value and gradient at every row of
    `ddf` (columns named as the program's variables; others are ignored), with
    `ddf`'s partitions and index. Compute it, or write it, with Dask."""
    import pandas as pd

    fn = compile_arrays(program, output=output)
    meta = pd.DataFrame({c: pd.Series(dtype=object if c == "error" else "float64") for c in columns_of(fn)})
    return ddf.map_partitions(partition, fn, meta=meta)
