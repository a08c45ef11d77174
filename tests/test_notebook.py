"""Notebooks: the display methods, the `%%autodiff` magic, and the shipped
examples/lecture.ipynb executed for real (nbclient with an IPython kernel
running this interpreter), its outputs checked."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import autodiff
from autodiff.explain import explain
from autodiff.notebook import autodiff_magic, parse_magic_line, result_html, result_latex, result_markdown

LECTURE = "u = b*c; v = a + u; J = 3*v"
NOTEBOOK = Path(__file__).parent.parent / "examples" / "lecture.ipynb"


def test_import_autodiff_does_not_import_ipython() -> None:
    code = "import sys, autodiff; autodiff.differentiate('J = x', {'x': 1}); print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_result_displays_its_table() -> None:
    r = autodiff.differentiate(LECTURE, {"a": 5, "b": 3, "c": 2})
    page = r._repr_html_()
    assert page == result_html(r)
    row = '<td>u</td><td>b * c</td><td style="text-align:right">6</td><td>∂u/∂b = 2, ∂u/∂c = 3</td>'
    assert row in page
    assert "gradient of J: ∂J/∂b = 6, ∂J/∂c = 9, ∂J/∂a = 3" in page
    markdown = "`J = 33`\n\n- `∂J/∂b = 6`\n- `∂J/∂c = 9`\n- `∂J/∂a = 3`\n"
    assert r._repr_markdown_() == result_markdown(r) == markdown
    assert result_latex(r).startswith("$J = 33,\\quad \\frac{\\partial J}{\\partial b} = 6")
    assert repr(r).startswith("<Result J = 33.0")


def test_explanation_and_graph_display_the_page_inline() -> None:
    r = autodiff.differentiate(LECTURE, {"a": 5, "b": 3, "c": 2})
    frame = explain(r)._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    inner = html.unescape(frame.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0])
    assert inner.startswith("<!DOCTYPE html>") and "u = b·c = 3·2 = 6" in inner
    assert "∂J/∂b = ∂J/∂u" in explain(r)._repr_markdown_()
    assert "∂u/∂b = c" in html.unescape(autodiff.parse(LECTURE)._repr_html_())


def test_magic_options_as_eval() -> None:
    opts = parse_magic_line("--a 5 --b=3 -D c=2 --of u --digits 4")
    assert opts.bindings == {"a": 5.0, "b": 3.0, "c": 2.0}
    assert (opts.output, opts.digits, opts.json, opts.explain) == ("u", 4, False, False)
    r = autodiff_magic("--a 5 --b 3 --c 2", "u = b*c\nv = a + u\nJ = 3*v\n")
    assert isinstance(r, autodiff.Result) and r.gradient == {"b": 6.0, "c": 9.0, "a": 3.0}
    shown = autodiff_magic("--a 5 --b 3 --c 2 --json", LECTURE)
    assert json.loads(repr(shown))["gradient"] == {"b": 6, "c": 9, "a": 3}


def test_magic_errors_are_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert autodiff_magic("--a 5 --b 3", LECTURE) is None
    err = capsys.readouterr().err
    assert err.startswith("error: no value for the variable c") and "Traceback" not in err


def _outputs(cell: dict[str, Any]) -> tuple[str, str]:
    """(the text/html of a cell's outputs, everything else as text)."""
    htmls, texts = [], []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        htmls.append("".join(data.get("text/html", "")))
        texts.append("".join(data.get("text/plain", "")) + "".join(out.get("text", "")))
        assert out["output_type"] != "error", out
    return "\n".join(htmls), "\n".join(texts)


def test_lecture_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # a kernel that runs this very interpreter (where autodiff is installed)
    spec = tmp_path / "jupyter" / "kernels" / "autodiff-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "autodiff test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "ship it without outputs"
    client = nbclient.NotebookClient(nb, kernel_name="autodiff-test", timeout=120,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    table, _ = _outputs(code[0])
    assert "<caption>computation graph of J = 33</caption>" in table
    assert "∂u/∂b = 2, ∂u/∂c = 3" in table
    _, grad = _outputs(code[1])
    assert grad == "{'b': 6.0, 'c': 9.0, 'a': 3.0}"
    magic, _ = _outputs(code[3])
    assert "gradient of J: ∂J/∂b = 6, ∂J/∂c = 9, ∂J/∂a = 3" in magic
    page, _ = _outputs(code[4])
    assert page.startswith("<iframe srcdoc=") and "J = 3·v = 3·11 = 33" in html.unescape(page)
    multi, _ = _outputs(code[5])
    assert "∂J/∂x = 5 + 1 = 6" in html.unescape(multi)
    _, check = _outputs(code[6])
    assert check == "(6.0, 6.0)"
    svg = "".join(o.get("data", {}).get("image/svg+xml", "") for o in code[7]["outputs"])
    assert svg.startswith("<svg") and "slope ∂J/∂b = 6 (dashed)" in svg
