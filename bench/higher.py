#!/usr/bin/env python3
"""Benchmarks of issue 11 (beyond one gradient); prints Markdown tables.

    python bench/higher.py                              # autodiff only
    python bench/higher.py --jax-python /path/to/venv/bin/python   # JAX side by side

Rows:
- Hessian cost ÷ gradient cost at 10, 100 and 1,000 inputs, divided by the
  number of inputs (goal: ≤ 3), for f = (x1 + ... + xn)^2 + Σ sin(x_i)·x_(i+1)
  (a dense Hessian). The gradient is `evaluate(..., keep_local=False)` (the
  tuned reverse sweep, forward pass included); the Hessian is
  `autodiff.higher.hessian` (forward over reverse, one pass per input).
- `--order 20` cost ÷ one forward pass (goal: ≤ 2·N² = 800), on a 300-node
  chain of sin, exp, products and divisions in one variable.
- with JAX (its own interpreter: the project does not depend on it): the
  same ratios for jax.hessian ÷ jax.grad and jax.experimental.jet ÷ f, jitted,
  after a warm-up.

A report, not a test: nothing fails because it is slow.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time

import autodiff
from autodiff.evaluate import check_bindings, evaluate, forward
from autodiff.higher import hessian, hvp, taylor

perf = time.perf_counter


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = perf()
        fn()
        times.append(perf() - t)
    return min(times)


def hessian_program(n: int) -> str:
    xs = [f"x{i}" for i in range(1, n + 1)]
    s = "s = " + " + ".join(xs)
    terms = " + ".join(f"sin({xs[i]})*{xs[i + 1]}" for i in range(n - 1))
    return f"{s}\nf = s*s + {terms}"


def hessian_point(n: int) -> dict[str, float]:
    return {f"x{i}": 0.1 + 0.01 * i for i in range(1, n + 1)}


def taylor_program(steps: int) -> str:
    lines = ["a0 = x"]
    for k in range(1, steps + 1):
        lines.append(f"a{k} = sin(a{k - 1})*x + exp(-a{k - 1}*a{k - 1})/(1 + x)")
    return "\n".join(lines)


#: chain steps for the --order rows; JAX's jet only gets the short one (jit-compiling
#: jet through 80 steps at order 20 took over 10 GB and minutes here)
STEPS = (5, 80)
JAX_STEPS = 5


JAX_SCRIPT = r"""
import json, sys, time
import jax, jax.numpy as jnp
from jax.experimental import jet
jax.config.update("jax_enable_x64", True)
perf = time.perf_counter
def best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = perf(); fn(); ts.append(perf() - t)
    return min(ts)
out = {"version": jax.__version__, "hessian": {}, "jet": None}
repeat = int(sys.argv[1])
for n in json.loads(sys.argv[2]):
    def f(x):
        s = jnp.sum(x)
        return s * s + jnp.sum(jnp.sin(x[:-1]) * x[1:])
    x = 0.1 + 0.01 * jnp.arange(1, n + 1, dtype=jnp.float64)
    g = jax.jit(jax.grad(f)); h = jax.jit(jax.hessian(f))
    g(x).block_until_ready(); h(x).block_until_ready()
    tg = best(lambda: g(x).block_until_ready(), repeat)
    th = best(lambda: h(x).block_until_ready(), repeat)
    out["hessian"][str(n)] = [tg, th]
K = int(sys.argv[3])
def chain(x):
    a = x
    for _ in range(K):
        a = jnp.sin(a) * x + jnp.exp(-a * a) / (1 + x)
    return a
x0 = jnp.float64(0.3)
order = int(sys.argv[4])
fj = jax.jit(chain)
series = ([1.0] + [0.0] * (order - 1),)
tj = jax.jit(lambda x: jet.jet(chain, (x,), series))
fj(x0).block_until_ready(); jax.block_until_ready(tj(x0))
tf = best(lambda: fj(x0).block_until_ready(), repeat)
tt = best(lambda: jax.block_until_ready(tj(x0)), repeat)
out["jet"] = [tf, tt]
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000", help="input counts for the Hessian rows")
    ap.add_argument("--order", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jax-python", help="an interpreter with jax installed (a separate venv)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"# autodiff {autodiff.__version__}: beyond one gradient\n")
    print(f"`python bench/higher.py {' '.join(sys.argv[1:])}` on {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.machine()}; best of {args.repeat}.\n")

    jax_out = None
    if args.jax_python:
        proc = subprocess.run([args.jax_python, "-c", JAX_SCRIPT, str(args.repeat), json.dumps(sizes),
                               str(JAX_STEPS), str(args.order)], capture_output=True, text=True,
                              check=False, timeout=900)
        if proc.returncode == 0:
            jax_out = json.loads(proc.stdout.strip().splitlines()[-1])
        else:
            print(f"(JAX failed: {proc.stderr.strip().splitlines()[-1:]})\n")

    print("## Hessian cost ÷ gradient cost (goal: ≤ 3 × inputs)\n")
    head = "| inputs | nodes | gradient | Hessian | Hessian ÷ gradient | ÷ inputs | goal | H·v ÷ gradient |"
    sep = "|---:|---:|---:|---:|---:|---:|:--|---:|"
    if jax_out:
        head += " JAX hessian ÷ grad | ÷ inputs |"
        sep += "---:|---:|"
    print(head)
    print(sep)
    for n in sizes:
        g = autodiff.parse(hessian_program(n)).select(None)
        pt = hessian_point(n)
        tg = best(lambda g=g, pt=pt: evaluate(g, pt, keep_local=False), args.repeat * 3)
        th = best(lambda g=g, pt=pt: hessian(g, pt), max(1, args.repeat if n < 1000 else 2))
        v = {k: 1.0 for k in pt}
        tv = best(lambda g=g, pt=pt, v=v: hvp(g, pt, v), args.repeat)
        ratio = th / tg
        row = (f"| {n:,} | {len(g):,} | {tg * 1e3:.3g} ms | {th * 1e3:.4g} ms | {ratio:,.0f} | "
               f"{ratio / n:.2f} | {'met' if ratio <= 3 * n else 'missed'} | {tv / tg:.1f} |")
        if jax_out:
            jg, jh = jax_out["hessian"][str(n)]
            row += f" {jh / jg:,.1f} | {jh / jg / n:.3f} |"
        print(row)

    print(f"\n## --order {args.order} cost ÷ one forward pass (goal: ≤ 2·N² = {2 * args.order ** 2})\n")
    print("f: a_k = sin(a_(k-1))·x + exp(-a_(k-1)²)/(1 + x), k = 1..steps, a_0 = x, at x = 0.3\n")
    head = "| steps | nodes | forward pass | order-N pass | ratio | goal |"
    sep = "|---:|---:|---:|---:|---:|:--|"
    if jax_out:
        head += " JAX jet ÷ f (jit) |"
        sep += "---:|"
    print(head)
    print(sep)
    for steps in STEPS:
        g = autodiff.parse(taylor_program(steps))
        pt = {"x": 0.3}
        bound = check_bindings(g, pt)
        tf = best(lambda g=g, bound=bound: forward(g, bound), args.repeat * 5)
        tt = best(lambda g=g, pt=pt: taylor(g, pt, "x", args.order), args.repeat)
        ratio = tt / tf
        row = (f"| {steps} | {len(g):,} | {tf * 1e3:.3g} ms | {tt * 1e3:.4g} ms | {ratio:,.0f} | "
               f"{'met' if ratio <= 2 * args.order ** 2 else 'missed'} |")
        if jax_out:
            if steps == JAX_STEPS:
                jf, jt = jax_out["jet"]
                row += f" {jt / jf:,.1f} |"
            else:
                row += " (not run) |"
        print(row)
    if jax_out:
        print(f"\nJAX {jax_out['version']}, float64, jitted (compile time not counted).")


if __name__ == "__main__":
    main()
