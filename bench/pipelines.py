"""Text in, CSV out, as whole processes: autodiff against pandas+JAX and
pandas+SymPy on the 52-operation program of bench/batch.py; and in-process
`autodiff.compile` against JAX ``jit(vmap(value_and_grad))``.

    python bench/pipelines.py [--points 1000000] [--repeat 3] [--python PY]

`--python` is the interpreter that has numpy, pandas, pyarrow, jax and sympy
for the alternatives (default: this one); autodiff runs as the `autodiff`
command next to this interpreter. Each round runs every pipeline once on the
same CSV file (written first, random points in [-2, 2] with 6 decimals), output
to a file; the table shows the best of `--repeat` rounds:

  wall       elapsed seconds of the whole process (/usr/bin/time -v)
  cpu        user + system seconds, children included
  peak RSS   /usr/bin/time -v's maximum resident set size (of the largest
             process) and, sampled every 20 ms, the largest total over the
             process and its children (autodiff forks workers on a multi-core
             machine; the alternatives use threads)

Goals (issue 13): autodiff at least 2x faster than the faster alternative with
at most a sixth of its peak memory (the sampled total); in-process, compile at
1e6 points at least 0.6x JAX's throughput, setup (import + compile) under 50 ms.
The outputs are checked to agree (values within 1e-9, relative).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from batch import PROGRAM  # noqa: E402  (bench/batch.py: the 52-operation program)


def make_points(path: Path, n: int) -> None:
    rng = random.Random(4)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("a,b,c,d\n")
        for _ in range(n):
            fh.write(",".join(repr(round(rng.uniform(-2.0, 2.0), 6)) for _ in range(4)) + "\n")


def _tree_rss(pid: int) -> int:
    """KiB resident in `pid` and its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return total


def run(cmd: list[str], out: Path, env: dict[str, str]) -> dict[str, float]:
    """Run under /usr/bin/time -v, sampling the process tree's memory."""
    with open(out, "wb") as fh, tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report.name, *cmd], stdout=fh, env=env)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.02)

        t = threading.Thread(target=sample)
        t.start()
        proc.wait()
        t.join()
        text = report.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{text}")

    def field(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([0-9:.]+)", text)
        assert m, (name, text)
        value = m.group(1)
        if ":" in value:
            parts = [float(x) for x in value.split(":")]
            return sum(x * 60 ** k for k, x in enumerate(reversed(parts)))
        return float(value)

    return {"wall": field("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
            "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "rss": field("Maximum resident set size (kbytes)") / 1024, "tree": peak[0] / 1024}


def check_agree(paths: list[Path], sample: int = 2000) -> str:
    import csv

    tables = []
    for p in paths:
        with open(p, newline="") as fh:
            reader = csv.reader(fh)
            tables.append([row for _, row in zip(range(sample + 1), reader, strict=False)])
    for rows in tables[1:]:
        for a, b in zip(tables[0][1:], rows[1:], strict=True):
            for x, y in zip(a[5:10], b[5:10], strict=True):
                if abs(float(x) - float(y)) > 1e-9 * max(1.0, abs(float(x))):
                    return f"DISAGREE: {a} vs {b}"
    return f"agree (first {sample} rows: value and gradient within 1e-9)"


def in_process(python: str, n: int, repeat: int) -> str:
    """autodiff.compile vs JAX jit(vmap(value_and_grad)) at n points, in one
    interpreter; and autodiff's setup in a fresh one."""
    script = f"""
import time, numpy as np
import autodiff
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
PROGRAM = {PROGRAM!r}
rng = np.random.default_rng(1)
cols = [rng.uniform(-2, 2, {n}) for _ in range(4)]
f = autodiff.compile(PROGRAM)
env = {{"sin": jnp.sin, "cos": jnp.cos, "exp": jnp.exp, "log": jnp.log}}
expr = PROGRAM.split("=", 1)[1].replace("^", "**")
model = eval("lambda a, b, c, d: " + expr, env)
g = jax.jit(jax.vmap(jax.value_and_grad(model, argnums=(0, 1, 2, 3))))
jc = [jnp.asarray(c) for c in cols]
jax.block_until_ready(g(*jc))  # compile outside the timing
best_a = best_j = 1e9
for _ in range({repeat}):
    t = time.perf_counter(); r = f(*cols); best_a = min(best_a, time.perf_counter() - t)
    t = time.perf_counter(); v, gr = g(*jc); jax.block_until_ready(v)
    best_j = min(best_j, time.perf_counter() - t)
assert np.allclose(r.value, np.asarray(v), rtol=1e-9)
assert np.allclose(r.gradient["a"], np.asarray(gr[0]), rtol=1e-9)
print(best_a, best_j)
"""
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    t_ad, t_jax = float(out[0]), float(out[1])
    setup_script = ("import time; t = time.perf_counter(); import autodiff; "
                    f"f = autodiff.compile({PROGRAM!r}); print(time.perf_counter() - t)")
    setups = sorted(float(subprocess.run([python, "-c", setup_script], capture_output=True, text=True,
                                         check=True).stdout) for _ in range(5))
    setup = setups[len(setups) // 2]
    ratio = t_jax / t_ad
    lines = [
        f"In-process, {n:,} points, best of {repeat}:",
        "",
        "| | seconds | points/s |",
        "|---|---:|---:|",
        f"| `autodiff.compile(PROGRAM)(a, b, c, d)` | {t_ad:.3f} | {n / t_ad:,.0f} |",
        f"| JAX `jit(vmap(value_and_grad))`, compiled beforehand | {t_jax:.3f} | {n / t_jax:,.0f} |",
        "",
        f"- throughput ratio autodiff/JAX: **{ratio:.2f}x** (goal >= 0.6x: "
        f"**{'met' if ratio >= 0.6 else 'missed'}**)",
        f"- setup, `import autodiff` + `autodiff.compile(PROGRAM)` in a fresh interpreter (median of 5): "
        f"**{setup * 1000:.0f} ms** (goal < 50 ms: **{'met' if setup < 0.05 else 'missed'}**)",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", default=sys.executable, help="interpreter with the alternatives' packages")
    ap.add_argument("--skip-in-process", action="store_true")
    args = ap.parse_args()
    exe = shutil.which("autodiff", path=str(Path(sys.executable).parent)) or "autodiff"
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        points, model = Path(tmp, "points.csv"), Path(tmp, "model.ad")
        make_points(points, args.points)
        model.write_text(PROGRAM + "\n", encoding="utf-8")
        pipelines = {
            "autodiff": [exe, "eval", "-f", str(model), "--points", str(points), "--format", "csv"],
            "pandas + JAX": [args.python, str(HERE / "alt_jax.py"), str(points)],
            "pandas + SymPy": [args.python, str(HERE / "alt_sympy.py"), str(points)],
        }
        best: dict[str, dict[str, float]] = {}
        for r in range(args.repeat):
            for name, cmd in pipelines.items():
                print(f"round {r + 1}: {name}", file=sys.stderr)
                got = run(cmd, Path(tmp, f"{name[:8].strip()}.csv"), env)
                old = best.get(name)
                best[name] = got if old is None else {k: min(old[k], got[k]) for k in got}
        agree = check_agree([Path(tmp, f"{name[:8].strip()}.csv") for name in pipelines])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.points:,} CSV points, the 52-operation program, {cpus} CPUs, Python "
          f"{sys.version.split()[0]}, best of {args.repeat} interleaved rounds; outputs {agree}")
    print()
    print("| pipeline | wall s | cpu s | peak RSS MB (time -v) | peak RSS MB (process tree) |")
    print("|---|---:|---:|---:|---:|")
    for name, m in best.items():
        print(f"| {name} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss']:.0f} | {m['tree']:.0f} |")
    ad = best["autodiff"]
    fastest = min((best[k] for k in pipelines if k != "autodiff"), key=lambda m: m["wall"])
    speed = fastest["wall"] / ad["wall"]
    memory = fastest["tree"] / ad["tree"]
    print()
    print(f"- speed vs the faster alternative: **{speed:.2f}x** (goal >= 2x: "
          f"**{'met' if speed >= 2 else 'missed'}**); cpu time: {fastest['cpu'] / ad['cpu']:.2f}x")
    print(f"- memory: the faster alternative's peak / autodiff's: **{memory:.1f}x** (goal >= 6x: "
          f"**{'met' if memory >= 6 else 'missed'}**)")
    if not args.skip_in_process:
        print()
        print(in_process(args.python, args.points, args.repeat))


if __name__ == "__main__":
    main()
