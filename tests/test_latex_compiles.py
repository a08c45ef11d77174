"""explain --format latex compiles with a real TeX engine (pdflatex, from
Debian's texlive-latex-base, which .ci/run installs when missing): numbers in
scientific notation as the base of a power, versions, calls of user
functions, names with underscores, %, where, and the paths section."""

from __future__ import annotations

import shutil
import subprocess

import pytest

PROGRAMS = [
    (["J = x^2", "--x", "1e-7"], "(1 \\times 10^{-7})^{2}"),
    (["u = 2.5e-7*x; J = u^x + x^1e21 + 3e20^2", "--x", "0.5"], "(1.25 \\times 10^{-7})^{0.5}"),
    (["c = a*b; c += 1; c = c*c; J = where(c > 10, log(c), 0)", "--a", "2", "--b", "3"], None),
    (["sq(x) = x^2; rate_2 = sq(a) % 3; J = max(rate_2, a, 1) + floor(a)", "--a", "1.5"], None),
    (["u = 2*x; v = 5*x; J = u + v", "--x", "1", "--paths"], None),
    (["J = exp(x)^2 + (-x)^3 + x^-2", "--x", "-3e-5"], None),
]


def test_every_explanation_compiles_with_pdflatex(run, tmp_path) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive-latex-base)")
    parts = []
    for args, piece in PROGRAMS:
        res = run("explain", *args, "--format", "latex")
        assert res.exit_code == 0, res.stderr
        if piece is not None:
            assert piece in res.stdout
        parts.append(res.stdout)
    doc = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
           + "\n\\bigskip\n".join(parts) + "\n\\end{document}\n")
    (tmp_path / "explain.tex").write_text(doc, encoding="utf-8")
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "explain.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "explain.pdf").stat().st_size > 1000
