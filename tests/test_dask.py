"""autodiff.dask.gradient on a real Dask cluster of processes (LocalCluster),
compared with the single-process result."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

import autodiff  # noqa: E402
import autodiff.dask  # noqa: E402

PROGRAM = "u = x*y; f = log(u) + sin(x)/y"


def test_gradient_on_a_local_cluster_of_processes() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"x": rng.uniform(-1, 2, n), "y": rng.uniform(0.5, 2, n), "id": np.arange(n)})
    df.loc[7, "x"] = -0.5  # log of a negative number: an error record at that row only
    ddf = dd.from_pandas(df, npartitions=4)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        got = autodiff.dask.gradient(ddf, PROGRAM).compute()
    assert list(got.columns) == ["f", "df/dx", "df/dy", "error"]
    assert got.index.equals(df.index)
    single = autodiff.compile(PROGRAM)(df)
    assert np.array_equal(got["f"].to_numpy(), single.value, equal_nan=True)
    assert np.array_equal(got["df/dx"].to_numpy(), single.gradient["x"], equal_nan=True)
    assert np.array_equal(got["df/dy"].to_numpy(), single.gradient["y"], equal_nan=True)
    failed = got["error"] != ""
    assert failed.to_numpy().tolist() == single.failed.tolist()
    assert got.loc[7, "error"].startswith("domain: ")
    assert math.isnan(got.loc[7, "f"])
    row = df.loc[3]
    want = autodiff.differentiate(PROGRAM, {"x": float(row.x), "y": float(row.y)})
    assert abs(got.loc[3, "df/dx"] - want.gradient["x"]) <= 1e-15 * max(1.0, abs(want.gradient["x"]))
