"""The step-through page (`explain --format html`), tested in a real browser:
headless Chromium (Debian's package, driven by Playwright) opens the file
from disk, steps through it with the keyboard and the buttons, and the DOM is
read for the values, local factors and adjoints shown at chosen steps. The
page must make no network request. A screenshot of the lecture example at the
last backward step is saved as an artifact and compared with a reference by
layout (the boxes of the nodes), not by pixels.

Skipped only when no Chromium can be found (`.ci/run` installs it)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

import autodiff
from autodiff.page import embed_json, failure_page, layout, page_for, structure_page
from autodiff.parser import parse

LECTURE = "u = b*c; v = a + u; J = 3*v"
LECTURE_BINDINGS = {"a": 5, "b": 3, "c": 2}
HERE = Path(__file__).parent
REFERENCE = HERE / "data" / "page_layout.json"


def _chromium() -> str | None:
    for name in (os.environ.get("AUTODIFF_CHROMIUM", ""), "chromium", "chromium-browser",
                 "google-chrome", "google-chrome-stable"):
        if name and (path := shutil.which(name)):
            return path
    return None


def _artifacts() -> Path:
    path = Path(os.environ.get("AUTODIFF_ARTIFACTS", HERE / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- without a browser


def test_layout_is_left_to_right_and_boxes_do_not_overlap() -> None:
    # a, b, c -> u = b*c -> v = a + u -> J
    sizes = {i: (100.0, 60.0) for i in range(6)}
    edges = [(1, 3), (2, 3), (0, 4), (3, 4), (4, 5)]
    lay = layout(edges, sizes)
    x = {i: lay.boxes[i][0] for i in sizes}
    assert x[0] == x[1] == x[2] < x[3] < x[4] < x[5]
    boxes = list(lay.boxes.values())
    for k, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[k + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    # the edge a -> v spans two layers: it bends once in between
    assert len(lay.routes[(0, 4)]) == 3


def test_page_is_small_self_contained_and_escapes_user_text() -> None:
    text = page_for(autodiff.differentiate(LECTURE, LECTURE_BINDINGS))
    assert len(text.encode()) < 60_000
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)
    assert "@import" not in text and "url(http" not in text
    hostile = "J = x*y  # </script><script>alert(1)</script> & <b>bold</b>"
    page = page_for(autodiff.differentiate(hostile, {"x": 2, "y": 3}))
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == 2  # the data's and the program's own
    assert "&lt;/script&gt;" in page  # the program, shown as text
    doc = embed_json({"s": "</script>\u2028&"})
    assert "<" not in doc and "&" not in doc and "\u2028" not in doc
    assert json.loads(doc) == {"s": "</script>\u2028&"}


def test_structure_page_shows_symbolic_factors() -> None:
    page = structure_page(parse(LECTURE).select(None))
    assert "∂u/∂b = c" in page and "Bind every variable" in page


def test_large_graph_is_bounded() -> None:
    program = "; ".join(f"t{k} = sin(x) * {k}" if k == 0 else f"t{k} = t{k - 1} + x*{k}"
                        for k in range(400))
    page = page_for(autodiff.differentiate(program, {"x": 0.5}), max_nodes=50)
    assert page.count('class="node ') == 50
    assert "more are not drawn" in page
    assert len(page.encode()) < 200_000


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium found (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
            "--no-first-run", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class Page:
    """One page opened from disk, every request recorded (and any that is not
    the file itself refused)."""

    def __init__(self, browser: Any, path: Path, fragment: str = "") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1100, "height": 760}, device_scale_factor=1)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def route(r: Any) -> None:
            self.requests.append(r.request.url)
            if r.request.url.split("#")[0] == path.as_uri():
                r.continue_()
            else:
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(path.as_uri() + fragment)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector)).strip()

    def node(self, name: str) -> str:
        return str(self.page.get_attribute(f'.node[data-name="{name}"]', "id"))

    def step(self) -> int:
        return int(self.page.get_attribute("body", "data-step"))

    def wait_until(self, predicate: Any, seconds: float = 15.0) -> None:
        """Poll (the page's policy forbids the string evaluation of wait_for_function)."""
        for _ in range(int(seconds * 10)):
            if predicate():
                return
            self.page.wait_for_timeout(100)
        raise AssertionError("the page did not get there")

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)

    def close(self) -> None:
        assert self.errors == []
        assert [u for u in self.requests if not u.startswith("file:")] == []
        self.context.close()


@pytest.fixture
def lecture_file(tmp_path: Path) -> Path:
    path = tmp_path / "lecture.html"
    path.write_text(page_for(autodiff.differentiate(LECTURE, LECTURE_BINDINGS)), encoding="utf-8")
    return path


def test_lecture_steps_in_the_browser(browser: Any, lecture_file: Path) -> None:
    p = Page(browser, lecture_file)
    u, b, c, v, j = (p.node(n) for n in "ubcvJ")
    assert p.step() == 0
    assert p.text(f"#{u}-v") == ""  # nothing computed yet
    p.press("ArrowRight", 4)  # b, c, a, u
    assert p.text("#line") == "u = b·c = 3·2 = 6"
    assert p.text(f"#{u}-v") == "6"
    assert "current" in p.page.get_attribute(f"#{u}", "class")
    assert p.text(f"#{v}-v") == ""  # v comes next
    feeding = p.page.locator("path.edge.feeding")  # b and c come along their edges
    assert sorted(feeding.nth(k).get_attribute("data-from") for k in range(feeding.count())) == sorted([b, c])
    p.press("ArrowRight", 2)
    assert p.text("#line") == "J = 3·v = 3·11 = 33"
    p.press("ArrowRight")  # the seed
    assert p.text("#line") == "∂J/∂J = 1"
    assert p.text(f"#{j}-a") == "1"
    p.press("ArrowRight", 4)  # J->v, v->a, v->u, u->b
    assert p.step() == 11
    assert p.text("#line") == "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6"
    assert p.text("#detail") == "local factor ∂u/∂b = c = 2"
    edge = p.page.locator(f'path.edge[data-from="{b}"][data-to="{u}"]')
    assert "current" in edge.get_attribute("class")
    eid = edge.get_attribute("id")
    assert p.text(f"#{eid}-f") == "∂u/∂b = c = 2"
    assert p.text(f"#{b}-a") == "6"
    assert p.text(f"#{c}-a") == ""  # c's adjoint is the next step
    assert p.page.evaluate("location.hash") == "#step=11"
    # the other edges already walked are drawn done; the one from c not yet
    assert "done" in p.page.get_attribute(f'path.edge[data-from="{v}"][data-to="{j}"]', "class")
    assert "done" not in p.page.get_attribute(f'path.edge[data-from="{c}"][data-to="{u}"]', "class")
    # buttons: back and forth, then the end
    p.page.click("#prev")
    assert p.step() == 10 and p.text(f"#{b}-a") == ""
    p.page.click("#next")
    p.press("ArrowRight")
    assert p.text("#line") == "∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9"
    p.page.click("#last")
    assert p.text("#line") == "gradient: ∂J/∂b = 6, ∂J/∂c = 9, ∂J/∂a = 3"
    assert p.page.is_disabled("#next")
    p.press("Home")
    assert p.step() == 0
    p.close()


def test_permalink_opens_at_its_step(browser: Any, lecture_file: Path) -> None:
    p = Page(browser, lecture_file, "#step=7")
    assert p.step() == 7 and p.text("#line") == "∂J/∂J = 1"
    p.page.evaluate("location.hash = '#step=5'")
    p.wait_until(lambda: p.step() == 5)
    assert p.text("#line") == "v = a + u = 5 + 6 = 11"
    p.close()


def test_play_advances_and_pauses(browser: Any, lecture_file: Path) -> None:
    p = Page(browser, lecture_file)
    p.page.click("#play")
    p.wait_until(lambda: p.step() >= 2)
    p.page.click("#play")  # pause
    paused = p.step()
    assert p.text("#play") == "▶ Play"
    p.page.wait_for_timeout(1500)
    assert p.step() == paused
    p.close()


def test_a_node_used_twice_shows_the_sum(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "multi.html"
    path.write_text(page_for(autodiff.differentiate("J = x*y + x", {"x": 2, "y": 5})), encoding="utf-8")
    p = Page(browser, path, "#step=6")
    x = p.node("x")
    t1 = p.node("t1")
    assert p.text("#line") == "∂J/∂t1 = ∂J/∂J · 1 = 1 · 1 = 1"
    p.press("ArrowRight")
    assert p.text("#line") == "use 1 of 2: ∂J/∂t1 · ∂t1/∂x = 1 · 5 = 5"
    assert p.text(f"#{x}-a") == "5 + …"
    eid = p.page.get_attribute(f'path.edge[data-from="{x}"][data-to="{t1}"]', "id")
    assert p.text(f"#{eid}-f") == "∂t1/∂x = y = 5"
    p.press("ArrowRight")
    assert p.text("#line") == "use 2 of 2: ∂J/∂J · 1 = 1 · 1 = 1; ∂J/∂x = 5 + 1 = 6"
    assert p.text(f"#{x}-a") == "5 + 1 = 6"
    p.close()


def test_conventions_and_errors_are_shown(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "kink.html"
    path.write_text(page_for(autodiff.differentiate("J = abs(x)*y", {"x": 0, "y": 2})), encoding="utf-8")
    p = Page(browser, path, "#step=8")
    assert "†" in p.text("#detail") and "abs'(0) = 0" in p.text("#detail")
    assert "abs'(0) = 0" in p.text('.node[data-name="t1"]')
    p.close()

    g = parse("u = x - 1; w = log(u); J = w*y + x").select(None)
    with pytest.raises(autodiff.EvaluationError) as info:
        autodiff.evaluate(g, {"x": 1, "y": 2})
    path = tmp_path / "fail.html"
    path.write_text(failure_page(g, {"x": 1, "y": 2}, info.value), encoding="utf-8")
    p = Page(browser, path)
    p.press("End")
    assert p.text("#line").startswith("error: log is undefined here")
    w = p.node("w")
    assert "failed" in p.page.get_attribute(f"#{w}", "class")
    assert p.text(f"#{p.node('u')}-v") == "0"
    assert p.text(f"#{p.node('t1')}-v") == ""  # never computed
    p.close()


def test_hostile_program_text_stays_text(browser: Any, tmp_path: Path) -> None:
    hostile = "J = x*y  # </script><script>document.title='owned'</script><img src=x onerror=alert(1)>"
    path = tmp_path / "hostile.html"
    path.write_text(page_for(autodiff.differentiate(hostile, {"x": 2, "y": 3})), encoding="utf-8")
    p = Page(browser, path, "#step=3")
    assert p.page.title() == "How autodiff computes J = 6"
    assert "</script><script>" in p.text("pre.program")
    assert p.text("#line") == "J = x·y = 2·3 = 6"
    p.close()


def _layout_of(p: Page) -> dict[str, list[float]]:
    board = p.page.locator(".board").bounding_box()
    out: dict[str, list[float]] = {}
    for el in p.page.locator(".node").all():
        box = el.bounding_box()
        out[el.get_attribute("data-name")] = [round(box["x"] - board["x"]), round(box["y"] - board["y"]),
                                              round(box["width"]), round(box["height"])]
    return out


def test_screenshot_of_the_last_backward_step(browser: Any, lecture_file: Path) -> None:
    p = Page(browser, lecture_file, "#step=12")
    assert p.text("#line") == "∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9"
    shot = _artifacts() / "lecture-step12.png"
    p.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # the small graph prints on one (landscape) page
    pdf = p.page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    got = _layout_of(p)
    # the board's order: inputs left, then u, v and J, each to the right of what it uses
    assert got["a"][0] == got["b"][0] == got["c"][0] < got["u"][0] < got["v"][0] < got["J"][0]
    for name, (x, y, w, h) in got.items():
        for other, (x2, y2, w2, h2) in got.items():
            if name < other:
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, (name, other)
    # every edge label sits between its two boxes, clear of every box
    for label in p.page.locator(".factor").all():
        lb = label.bounding_box()
        for name, (x, y, w, h) in got.items():
            board = p.page.locator(".board").bounding_box()
            lx, ly = lb["x"] - board["x"], lb["y"] - board["y"]
            assert lx + lb["width"] <= x or x + w <= lx or ly + lb["height"] <= y or y + h <= ly, name
    if os.environ.get("AUTODIFF_UPDATE_REFERENCE"):
        REFERENCE.parent.mkdir(exist_ok=True)
        rows = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(got.items()))
        REFERENCE.write_text("{\n" + rows + "\n}\n")
    want = json.loads(REFERENCE.read_text())
    assert sorted(got) == sorted(want)
    for name in want:  # a few pixels of font difference are fine; a moved box is not
        assert all(abs(g - w) <= 12 for g, w in zip(got[name], want[name], strict=True)), (name, got[name])
    p.close()


# ---------------------------------------------------------------- the commands


def test_explain_format_html_writes_the_page(run, tmp_path: Path) -> None:
    out = tmp_path / "lecture.html"
    res = run("explain", LECTURE, "--a", "5", "--b", "3", "--c", "2", "--format", "html", "-o", str(out))
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page == page_for(autodiff.differentiate(LECTURE, LECTURE_BINDINGS))
    res = run("explain", LECTURE, "--a", "5", "--b", "3", "--c", "2", "--format", "html")
    assert res.exit_code == 0 and res.stdout == page  # no -o: stdout


def test_graph_format_html_with_and_without_bindings(run) -> None:
    res = run("graph", LECTURE, "--format", "html")
    assert res.exit_code == 0 and "∂u/∂b = c" in res.stdout and "Bind every variable" in res.stdout
    res = run("graph", LECTURE, "--a", "5", "--b", "3", "--c", "2", "--format", "html")
    assert res.exit_code == 0 and "u = b·c = 3·2 = 6" in res.stdout


def test_a_failing_program_still_gets_its_page(run, tmp_path: Path) -> None:
    out = tmp_path / "fail.html"
    res = run("explain", "u = x - 1; J = log(u)", "--x", "1", "--format", "html", "-o", str(out))
    assert res.exit_code == 1 and "log is undefined" in res.stderr
    page = out.read_text(encoding="utf-8")
    assert "error: log is undefined here" in page and "u = x - 1 = 1 - 1 = 0" in page


def test_explain_o_writes_any_format(run, tmp_path: Path) -> None:
    out = tmp_path / "lecture.txt"
    res = run("explain", LECTURE, "--a", "5", "--b", "3", "--c", "2", "-o", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    text = run("explain", LECTURE, "--a", "5", "--b", "3", "--c", "2").stdout
    assert out.read_text(encoding="utf-8") == text
