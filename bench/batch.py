"""Batch throughput: autodiff's batch against the I/O floor.

    python bench/batch.py [--points 100000] [--repeat 3]

Writes N random NDJSON points for the issue's 52-operation program to a
temporary file, then times, best of `--repeat`:

  I/O floor          a bare Python loop: json.loads each line, json.dumps one
                     line of the same size as autodiff's answer, write it
  batch, in-process  autodiff.batch.run_batch (parse + compile once, then stream)
  batch, interpreted the same with the compiler off (every point interpreted)
  batch, process     the installed `autodiff eval -f PROGRAM --points FILE`
                     as a whole process (start-up included)

and prints points per second and the ratio to the floor's speed (the target is
>= 0.5 for the in-process and the process batch). Output goes to /dev/null.
The first three are timed in rounds (each round runs each once), best of
`--repeat`, so that a change in the machine's load affects them alike.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = ("f = sin(a*b+c)*exp(-a/4) + log(1+b*b)*cos(c-d) + exp(sin(a)*cos(b))/(1+c*c) "
           "+ log(2+sin(d*a))*b - a*b*c*d/(1+exp(-c)) + sin(exp(-d*d))*log(3+a*a+b*b) "
           "+ cos(a+b+c+d)")


def make_points(path: Path, n: int) -> None:
    rng = random.Random(4)
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(n):
            fh.write(json.dumps({k: round(rng.uniform(-2.0, 2.0), 6) for k in "abcd"}) + "\n")


def floor(points: Path, sample: dict) -> None:
    """The I/O floor: read and parse each line, write one JSON line of the size
    of autodiff's answer."""
    with open(points, "rb") as src, open(os.devnull, "w", encoding="utf-8") as out:
        write = out.write
        loads, dumps = json.loads, json.dumps
        for line in src:
            loads(line)
            write(dumps(sample, separators=(",", ":")) + "\n")


def in_process(points: Path, compile_: bool) -> None:
    import autodiff
    from autodiff.batch import BatchOptions, run_batch

    full = autodiff.parse(PROGRAM)
    with open(points, "rb") as src, open(os.devnull, "wb") as out:
        run_batch(full, full.select(None), src, out, BatchOptions(compile=compile_))


def process(points: Path, program: Path) -> None:
    exe = shutil.which("autodiff", path=str(Path(sys.executable).parent)) or "autodiff"
    with open(os.devnull, "wb") as out:
        subprocess.run([exe, "eval", "-f", str(program), "--points", str(points)], stdout=out,
                       check=True)


def best_of(variants: list[tuple[str, object]], repeat: int) -> list[tuple[str, float]]:
    """Best time of each variant over `repeat` rounds; each round runs every
    variant once, so a change in the machine's load affects them alike."""
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for _ in range(repeat):
        for name, fn in variants:
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            times[name].append(time.perf_counter() - t)
    return [(name, min(times[name])) for name, _ in variants]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-interpreted", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        points, program = Path(tmp, "points.ndjson"), Path(tmp, "model.ad")
        make_points(points, args.points)
        program.write_text(PROGRAM + "\n", encoding="utf-8")
        out = io.BytesIO()
        import autodiff
        from autodiff.batch import BatchOptions, run_batch

        full = autodiff.parse(PROGRAM)
        with open(points, "rb") as src:
            first = src.readline()
        run_batch(full, full.select(None), io.BytesIO(first), out, BatchOptions())
        sample = json.loads(out.getvalue())
        n = args.points
        variants: list[tuple[str, object]] = [
            ("I/O floor (json.loads + json.dumps)", lambda: floor(points, sample)),
            ("autodiff batch, in-process", lambda: in_process(points, True)),
            ("autodiff eval --points, whole process", lambda: process(points, program)),
        ]
        rows = best_of(variants, args.repeat)
        if not args.skip_interpreted:
            rows += best_of([("autodiff batch, interpreted (no compile)",
                              lambda: in_process(points, False))], 1)
    base = rows[0][1]
    print(f"{n} points, {len(full)} nodes ({sum(op is not None for op in full.op)} operations), "
          f"Python {sys.version.split()[0]}, best of {args.repeat}")
    print(f"{'':42} {'seconds':>8} {'points/s':>10} {'speed vs floor':>15}")
    for name, t in rows:
        print(f"{name:42} {t:8.2f} {n / t:10.0f} {base / t:14.2f}x")


if __name__ == "__main__":
    main()
