"""The command-line package: shared options, derived names, format tables,
no import cycles, and what the commands share (common.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from autodiff.cli import COMMANDS, cli
from autodiff.cli.common import FormatChoice, option_names

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHARED = {"file", "set", "bindings", "of", "digits", "max-chars", "debug"}


def _command(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None
    return cmd


def test_eval_option_names_are_the_commands_options() -> None:
    from autodiff.cli.eval import EVAL_OPTION_NAMES, eval_cmd

    longs = {opt[2:] for p in eval_cmd.params if isinstance(p, click.Option)
             for opt in p.opts + p.secondary_opts if opt.startswith("--")}
    assert set(EVAL_OPTION_NAMES) == longs | {"help"}
    assert len(EVAL_OPTION_NAMES) == len(set(EVAL_OPTION_NAMES))


def test_readme_lists_the_eval_option_names() -> None:
    from autodiff.cli.eval import EVAL_OPTION_NAMES

    text = README.split("one of `eval`'s own options:")[1].split(".\n")[0]
    assert re.findall(r"`([a-z-]+)`", text) == list(EVAL_OPTION_NAMES)


@pytest.mark.parametrize("name", ["eval", "graph", "explain"])
def test_every_command_that_reads_a_program_has_the_shared_options(name: str) -> None:
    assert SHARED <= set(option_names(_command(name)))


@pytest.mark.parametrize("name", ["eval", "graph", "explain", "check"])
def test_format_choices_help_and_errors_come_from_one_table(name: str, run) -> None:
    cmd = _command(name)
    fmt = next(p for p in cmd.params if p.name in ("fmt", "output_format"))
    assert isinstance(fmt.type, FormatChoice)
    table = vars(sys.modules[cmd.callback.__module__])[f"{'EVAL' if name == 'eval' else name.upper()}"
                                                        "_FORMATS"]
    assert list(fmt.type.choices) == list(table)
    help_text = run(name, "--help").stdout
    for format_name in table:
        assert re.search(rf"^\s+{format_name}\s", help_text, re.M), format_name
    res = run(name, *(["x", "--x", "1"] if name != "check" else ["f.toml"]), "--format", "nope")
    assert res.exit_code == 2
    choices = ", ".join(list(table)[:-1]) + f" or {list(table)[-1]}"
    assert res.stderr == f"error: unknown format 'nope' for {name}: choose {choices}\n"


def test_the_top_level_help_lists_each_command_once(run) -> None:
    for args in ([], ["--help"]):
        res = run(*args)
        assert res.exit_code == 0 and res.stderr == ""
        assert res.stdout.count("Commands:") == 1
        for name in COMMANDS:
            assert re.search(rf"^  {name}\s", res.stdout, re.M), name


def test_no_import_cycles_between_the_cli_modules() -> None:
    """Each module of the package imports only common.py and the library
    (never __init__'s names or a sibling command)."""
    for path in (ROOT / "src" / "autodiff" / "cli").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        siblings = set(re.findall(r"from \.(\w*) import", source)) - {""}
        if path.name == "common.py":
            assert siblings == set(), path.name
        elif path.name == "__init__.py":
            assert siblings <= {"common"}, path.name
        else:
            assert siblings <= {"common"}, (path.name, siblings)
            assert not re.search(r"^from \. import", source, re.M), path.name


def test_eval_does_not_load_other_commands_or_heavy_modules() -> None:
    code = ("import sys; from autodiff.cli import main; sys.argv = ['autodiff', 'eval', 'x*2', "
            "'--x', '3', '--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('autodiff.cli.graph', 'autodiff.cli.check', 'autodiff.batch', "
            "'autodiff.compile', 'autodiff.explain', 'autodiff.drawing', 'rich.table', 'numpy') "
            "if m in sys.modules]\nprint('LOADED', bad, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in res.stderr, res.stderr
