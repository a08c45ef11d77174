"""The README's examples are real output: every ```console block is run
(`$ autodiff ...` lines through the CLI) and compared exactly; ```pycon blocks
run as doctests; the function list matches the operations table."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodiff.cli import cli
from autodiff.ops import OPS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def console_examples() -> list[tuple[str, str]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        parts = re.split(r"^\$ ", block, flags=re.M)
        for part in parts[1:]:
            command, _, expected = part.partition("\n")
            out.append((command, expected))
    return out


@pytest.mark.parametrize("command, expected", console_examples(), ids=lambda x: x[:50])
def test_console_example(command: str, expected: str, monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # examples/ paths are relative to the repo
    argv = shlex.split(command)
    assert argv[0] == "autodiff"
    res = CliRunner().invoke(cli, argv[1:], catch_exceptions=False)
    assert res.stdout + res.stderr == expected


def test_there_are_console_examples() -> None:
    assert len(console_examples()) >= 4


def test_pycon_examples() -> None:
    blocks = re.findall(r"```pycon\n(.*?)```", README, re.S)
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for k, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README pycon block {k}", "README.md", 0)
        runner.run(test)
    assert runner.failures == 0


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.name}/{op.arity}")
def test_function_list_matches_the_ops_table(op) -> None:
    section = README.split("### Functions and their local derivatives")[1].split("\n## ")[0]
    if op.symbol:
        head = f"`{op.doc.split(',')[0]}`"
    else:
        head = f"`{op.name}({', '.join(op.params)})`"
    rows = [line for line in section.splitlines() if line.startswith(f"| {head}")]
    assert rows, f"README lacks a row for {head}"
    for p, partial in zip(op.params, op.partials, strict=True):
        assert f"∂/∂{p} = `{partial.formula}`" in rows[0]
