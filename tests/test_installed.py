"""The installed command as a whole process, and a built (non-editable) wheel
in a fresh virtual environment, run from an unrelated working directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ["eval", "J=3*(a+b*c)", "--a", "5", "--b", "3", "--c", "2"]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, **kw)


def _entry_point() -> str:
    exe = shutil.which("autodiff", path=str(Path(sys.executable).parent)) or shutil.which("autodiff")
    if exe is None:
        pytest.fail("the autodiff command is not installed: pip install -e '.[test]'")
    return exe


def test_entry_point_and_python_m_agree(tmp_path) -> None:
    a = _run([_entry_point(), *LECTURE, "--json"], cwd=tmp_path)
    b = _run([sys.executable, "-m", "autodiff", *LECTURE, "--json"], cwd=tmp_path)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    assert json.loads(a.stdout)["gradient"] == {"a": 3, "b": 6, "c": 9}


def test_piped_table_has_no_control_codes_and_no_color_is_honoured(tmp_path) -> None:
    plain = _run([_entry_point(), *LECTURE], cwd=tmp_path)
    assert plain.returncode == 0 and "\x1b" not in plain.stdout and "∂J/∂c = 9" in plain.stdout
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="1")
    forced = subprocess.run([_entry_point(), *LECTURE], capture_output=True, text=True, env=env)
    assert "\x1b[3" not in forced.stdout  # no colour codes with NO_COLOR, even when forced


def test_errors_exit_codes_and_no_traceback(tmp_path) -> None:
    r = _run([_entry_point(), "eval", "log(x)", "--x", "-1"], cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    r = _run([_entry_point(), "eval", "x +", "--x", "1"], cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "^" in r.stderr


def test_broken_pipe_is_quiet(tmp_path) -> None:
    cmd = f"'{_entry_point()}' eval \"{'+'.join(f'x*{i}' for i in range(1, 3000))}\" --x 1 --json | head -c1"
    r = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], capture_output=True, text=True)
    assert r.stdout == "{"
    assert r.stderr == ""


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("AUTODIFF_SKIP_WHEEL") == "1", reason="AUTODIFF_SKIP_WHEEL=1")
def test_built_wheel_in_a_fresh_venv_finds_its_grammar(tmp_path) -> None:
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)])
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("autodiff-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    inst = _run([str(py), "-m", "pip", "install", "-q", str(wheel)])
    assert inst.returncode == 0, inst.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run([str(env_dir / "bin" / "autodiff"), *LECTURE, "--json"], cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gradient"] == {"a": 3, "b": 6, "c": 9}
    where = _run([str(py), "-c", "from autodiff.grammar import grammar_path; print(grammar_path())"],
                 cwd=elsewhere)
    assert "site-packages" in where.stdout and where.stdout.strip().endswith("expr.lark")
    # the step-through page's script and styles are package data: inlined from the installed wheel
    page = _run([str(env_dir / "bin" / "autodiff"), "explain", "J = 3*(a + b*c)", "--a", "5", "--b", "3",
                 "--c", "2", "--format", "html", "-o", "page.html"], cwd=elsewhere)
    assert page.returncode == 0, page.stderr
    text = (elsewhere / "page.html").read_text(encoding="utf-8")
    assert "autodiff's step-through page" in text and 'getElementById("autodiff-data")' in text
