"""`check --update` and the cases file's edges (issue 9 A, D, E, G, 5): the
file is replaced in one step or not at all, a file changed during the run is
not overwritten, dotted keys update, huge integers and escape sequences are
refused or escaped, and `file =` stays inside the cases file's folder."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.check import MAX_BYTES, CasesFileError, load_cases, run_case, update_file
from autodiff.errors import OutputError

GROW = "".join(f'[[case]]\nname = "c{k}"\nprogram = "x*{k}"\nbindings = {{ x = 2 }}\n\n'
               for k in range(150))


def autodiff(*args: str, cwd: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "autodiff", *args], cwd=cwd, capture_output=True,
                          text=True, preexec_fn=limit, env=env, timeout=60)


def test_a_write_error_leaves_the_file_whole_and_exits_74(tmp_path) -> None:
    # The update needs more room than the limit, which makes the write fail (EFBIG),
    # as a full disk would. Before: exit 70 and a truncated, invalid file.
    path = tmp_path / "grow.toml"
    path.write_text(GROW, encoding="utf-8")
    res = autodiff("check", "grow.toml", "--update", cwd=tmp_path, limit_bytes=len(GROW) + 1024)
    assert res.returncode == 74, res.stderr
    assert "cannot write grow.toml" in res.stderr and "the file is unchanged" in res.stderr
    assert path.read_text(encoding="utf-8") == GROW
    assert sorted(os.listdir(tmp_path)) == ["grow.toml"]  # no temporary file left behind
    res = autodiff("check", "grow.toml", "--update", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "updated 150 cases" in res.stderr
    assert autodiff("check", "grow.toml", cwd=tmp_path).stdout.endswith("150 passed, 0 failed\n")


def test_update_keeps_the_mode_and_a_symbolic_link(tmp_path) -> None:
    real = tmp_path / "real.toml"
    real.write_text('[[case]]\nname = "a"\nprogram = "x*3"\nbindings = { x = 2 }\n'
                    'expect = { value = 5 }  # wrong\n', encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.toml"
    link.symlink_to("real.toml")
    update_file(link, [run_case(c) for c in load_cases(link, updating=True)])
    assert link.is_symlink() and os.readlink(link) == "real.toml"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert "expect = { value = 6 }  # wrong" in real.read_text(encoding="utf-8")


def test_a_file_changed_during_the_run_is_not_overwritten(tmp_path) -> None:
    # Before: the results of case k were written into case k of the new text.
    path = tmp_path / "cases.toml"
    path.write_text('[[case]]\nname = "alpha"\nprogram = "x*5"\nbindings = { x = 2 }\n'
                    'expect = { value = 0 }\n', encoding="utf-8")
    outcomes = [run_case(c) for c in load_cases(path, updating=True)]
    edited = ('[[case]]\nname = "new"\nprogram = "x - 101"\nbindings = { x = 2 }\n'
              'expect = { value = -99 }\n\n' + path.read_text(encoding="utf-8"))
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(CasesFileError, match="changed while the cases ran; it was not updated"):
        update_file(path, outcomes)
    assert path.read_text(encoding="utf-8") == edited


def test_dotted_expect_keys_update(run, tmp_path) -> None:
    # Before: IndexError inside tomlkit (exit 70).
    path = tmp_path / "dotted.toml"
    path.write_text('[[case]]\nname = "a"\nprogram = "log(x)"\nbindings = { x = -1 }\n'
                    'expect.value = 1\nexpect.gradient.x = 2\n\n'
                    '[[case]]\nname = "b"\nprogram = "x*y"\nbindings = { x = 2, y = 3 }\n'
                    'expect.value = 1  # kept\nexpect.gradient.x = 2\n', encoding="utf-8")
    res = run("check", str(path), "--update")
    assert res.exit_code == 0, res.stderr
    assert "updated 2 cases" in res.stderr
    text = path.read_text(encoding="utf-8")
    assert 'expect = { error = "domain" }' in text
    assert "expect.value = 6  # kept\nexpect.gradient.x = 3\n" in text
    assert run("check", str(path)).stdout.splitlines() == ["PASS a", "PASS b", "2 passed, 0 failed"]


@pytest.mark.parametrize("where", ["expect = { value = BIG }", "expect = { gradient = { x = BIG } }",
                                   "bindings = { x = BIG }\nexpect = { value = 1 }",
                                   "rel = BIG\nexpect = { value = 1 }",
                                   "abs = BIG\nexpect = { value = 1 }"])
@pytest.mark.parametrize("digits", [400, 5000])
def test_integers_too_large_for_a_double_are_a_cases_file_error(run, tmp_path, where, digits) -> None:
    # Before: OverflowError in _is_number (400 digits) or ValueError in tomllib
    # (5,000 digits): exit 70.
    big = "1" + "0" * (digits - 1)
    body = where.replace("BIG", big)
    if "bindings" not in body:
        body = "bindings = { x = 1 }\n" + body
    path = tmp_path / "big.toml"
    path.write_text(f'[[case]]\nname = "a"\nprogram = "x"\n{body}\n', encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 2, res.stderr
    assert res.stderr.startswith("error: ") and "internal" not in res.stderr
    jpath = tmp_path / "big.json"
    jpath.write_text('{"case": [{"name": "a", "program": "x", "bindings": {"x": 1}, '
                     f'"expect": {{"value": {big}}}}}]}}', encoding="utf-8")
    assert run("check", str(jpath)).exit_code == 2


def test_escape_sequences_in_keys_are_escaped(run, tmp_path) -> None:
    path = tmp_path / "esc.toml"
    path.write_text('[[case]]\nname = "p"\nprogram = "x*2"\nbindings = { x = 1 }\n'
                    'expect = { gradient = { "\\u001b]0;PWNED\\u0007\\u001b[31mRED" = 2 } }\n',
                    encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 1
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "gradient.\\x1b]0;PWNED\\x07\\x1b[31mRED expected 2" in res.stdout
    path.write_text('[[case]]\nname = "p"\nprogram = "x*2"\nexpect = { "\\u001b[31mRED" = 2 }\n',
                    encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 2 and "\x1b" not in res.output
    assert "unknown key expect.\\x1b[31mRED" in res.stderr


def _case_file(tmp_path: Path, ref: str) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    path = folder / "cases.toml"
    path.write_text(f'[[case]]\nname = "p"\nfile = {json.dumps(ref)}\nexpect = {{ value = 1 }}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("ref", ["/etc/hostname", "../secret.ad", "sub/../../secret.ad", "/",
                                 "link.ad"])
def test_file_stays_inside_the_cases_folder(tmp_path, ref) -> None:
    (tmp_path / "secret.ad").write_text("hostname_vm\n", encoding="utf-8")
    path = _case_file(tmp_path, ref)
    (path.parent / "sub").mkdir()
    (path.parent / "link.ad").symlink_to(tmp_path / "secret.ad")
    with pytest.raises(CasesFileError, match="outside the cases file's folder") as info:
        load_cases(path)
    assert "hostname_vm" not in info.value.message
    if not ref.startswith("/"):  # the option lifts the rule
        assert load_cases(path, allow_outside=True)[0].program == "hostname_vm\n"


def test_file_inside_the_folder_is_read(tmp_path) -> None:
    path = _case_file(tmp_path, "sub/model.ad")
    (path.parent / "sub").mkdir()
    (path.parent / "sub" / "model.ad").write_bytes(b"\xef\xbb\xbfx - 1\n")  # a BOM, too
    case = load_cases(path)[0]
    assert case.program == "x - 1\n"


def test_a_fifo_is_refused_without_blocking(tmp_path) -> None:
    path = _case_file(tmp_path, "pipe.ad")
    os.mkfifo(path.parent / "pipe.ad")
    with pytest.raises(CasesFileError, match="is not a regular file"):
        load_cases(path)


def test_endless_and_huge_files_stop_at_the_limit(tmp_path) -> None:
    # Before: /dev/zero was read until memory ran out.
    path = _case_file(tmp_path, "/dev/zero")
    with pytest.raises(CasesFileError, match=f"larger than {MAX_BYTES:,} bytes: not a program"):
        load_cases(path, allow_outside=True)
    path = _case_file(tmp_path, "huge.ad")
    with open(path.parent / "huge.ad", "wb") as fh:
        fh.truncate(MAX_BYTES + 10)  # sparse: no disk used
    with pytest.raises(CasesFileError, match="larger than"):
        load_cases(path)
    (path.parent / "bin.ad").write_bytes(b"secret_text:x:0:0\x00\xff")
    with pytest.raises(CasesFileError, match="not a program") as info:
        load_cases(_case_file(tmp_path, "bin.ad"))
    assert "secret_text" not in info.value.message


def test_a_bom_starts_toml_and_json_cases_files(run, tmp_path) -> None:
    toml = tmp_path / "bom.toml"
    toml.write_bytes(b'\xef\xbb\xbf[[case]]\nname = "a"\nprogram = "x*2"\nbindings = { x = 1 }\n'
                     b'expect = { value = 3 }\n')
    jsn = tmp_path / "bom.json"
    jsn.write_bytes(b'\xef\xbb\xbf{"case": [{"name": "a", "program": "x*2", "bindings": {"x": 1}, '
                    b'"expect": {"value": 2}}]}')
    assert run("check", str(jsn)).stdout == "PASS a\n1 passed, 0 failed\n"
    res = run("check", str(toml), "--update")
    assert res.exit_code == 0, res.stderr
    assert toml.read_bytes().startswith(b'\xef\xbb\xbf[[case]]\n')  # the mark is kept
    assert b"expect = { value = 2 }" in toml.read_bytes()


def test_update_failure_is_an_output_error(tmp_path, monkeypatch) -> None:
    path = tmp_path / "cases.toml"
    text = '[[case]]\nname = "a"\nprogram = "x*3"\nbindings = { x = 2 }\nexpect = { value = 5 }\n'
    path.write_text(text, encoding="utf-8")
    outcomes = [run_case(c) for c in load_cases(path)]

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="No space left on device; the file is unchanged"):
        update_file(path, outcomes)
    assert path.read_text(encoding="utf-8") == text
    assert os.listdir(tmp_path) == ["cases.toml"]


def test_a_nul_in_the_file_name_is_a_cases_file_error(run, tmp_path) -> None:
    path = _case_file(tmp_path, "a\0b.ad")
    res = run("check", str(path))
    assert res.exit_code == 2 and "file must be a non-empty string" in res.stderr


def test_a_new_inline_table_is_written_with_spaces(run, tmp_path) -> None:
    path = tmp_path / "cases.toml"
    path.write_text('[[case]]\nname = "a"\nprogram = "x*y"\nbindings = { x = 2, "y" = 3 }\n'
                    'expect = { value = 1 }  # pinned\n\n[[case]]\nname = "b"\nprogram = "x"\n'
                    'bindings = { x = 0.1 }\n', encoding="utf-8")
    assert run("check", str(path), "--update").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert "expect = { value = 6 }  # pinned\n" in text
    assert "expect = { value = 0.1, gradient = { x = 1 } }\n" in text


def test_the_allow_outside_option(run, tmp_path) -> None:
    (tmp_path / "model.ad").write_text("x*2\n", encoding="utf-8")
    path = _case_file(tmp_path, "../model.ad")
    path.write_text(path.read_text(encoding="utf-8").replace("{ value = 1 }", "{ value = 2 }\n"
                                                             "bindings = { x = 1 }"), encoding="utf-8")
    res = run("check", str(path))
    assert res.exit_code == 2 and "outside the cases file's folder" in res.stderr
    res = run("check", str(path), "--allow-outside")
    assert (res.exit_code, res.stdout) == (0, "PASS p\n1 passed, 0 failed\n")
