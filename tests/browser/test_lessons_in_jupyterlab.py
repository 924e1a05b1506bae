"""Every lesson, run by a learner's hands in a real JupyterLab in headless Chromium.

For each lesson notebook present in ``notebooks/`` (parametrised, so new lessons join by
existing), the test opens it in JupyterLab, clicks Edit > Clear Outputs of All Cells and
Run > Run All Cells on a fresh kernel, waits until the kernel is idle and no cell is queued,
and then checks what the learner would see:

- every code cell ran, in order (execution counts 1, 2, 3, ...);
- no error output, and nothing on stderr but tqdm progress bars (a warning is a defect);
- no widget failed to render ("Error displaying widget", "Loading widget..." left behind);
- every explorer (``mediarl_lessons.widgets.explorer``, and ``ipywidgets.interact``) redraws:
  each of its controls is moved the way a learner moves it (arrow key on a focused slider,
  a new option in a dropdown, a click on a checkbox) and the figure it drives must change
  (its image source), be decoded and shown, with no error in its place.

One lesson at a time per pytest process. Under pytest-xdist (``-n auto``) each lesson is a
work unit of its own (conftest.py at the top of the repository), longest first, and each
worker that gets one drives it in its own JupyterLab and Chromium, beside the rest of the
suite. Every lesson runs once per session: one driven here is not run again under nbval
(tests/browser/conftest.py skips its nbval cells; this test fails on any error output, so
every assert in it is checked). ``MEDIARL_BROWSER_LESSONS=01,05`` drives only those; nbval runs the others.

Screenshots of every notebook (one screen per file, top to bottom) and of every explorer
before and after its controls moved are saved to tests/browser/screenshots/ (or
$MEDIARL_SCREENSHOTS), with timings.txt: how long each lesson took.
"""

from __future__ import annotations

import fcntl
import re
import textwrap
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from lab_harness import NOTEBOOKS, TIMINGS, LabServer, lesson_left_out, timing_line

pytestmark = pytest.mark.browser

LESSONS = sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
RUN_TIMEOUT_S = 600  # a whole notebook; the lessons' own budget is 30 s (120 s for DQN)
REDRAW_TIMEOUT_S = 120  # one explorer redraw

# A tqdm bar ends in its elapsed/remaining-time bracket: "... [00:03<00:01, 12.5it/s]".
TQDM_LINE = re.compile(r"\[\d+:\d+(?::\d+)?(?:<[\d:?]+)?(?:,[^\]]*)?\]\s*$")

# The notebook panel in view (window.jupyterapp is exposed by the test server).
JS_READY = """(path) => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected'
        && panel.content.widgets.length === panel.model.cells.length;
}"""
JS_CLEARED = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    return panel.content.widgets.every(cell => cell.model.type !== 'code' || cell.model.executionCount === null);
}"""
JS_DONE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session.kernel;
    const prompts = [...panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
    const counted = panel.content.widgets.some(
        cell => cell.model.type === 'code' && cell.model.executionCount !== null);
    return kernel.status === 'idle' && counted && !prompts.some(p => p.includes('*'));
}"""
JS_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map((cell, index) => {
    const model = cell.model;
    const source = model.sharedModel.getSource();
    if (model.type !== 'code') return {index, type: model.type, source};
    const text = t => Array.isArray(t) ? t.join('') : (t || '');
    const outputs = model.outputs.toJSON().map(o => ({
        output_type: o.output_type, name: o.name || null, text: text(o.text),
        ename: o.ename || null, evalue: o.evalue || null, traceback: text(o.traceback && o.traceback.join('\\n')),
        mime: Object.keys(o.data || {})}));
    const timing = model.getMetadata('execution') || {};
    return {index, type: 'code', source, count: model.executionCount, outputs,
            began: timing['iopub.status.busy'] || null, ended: timing['shell.execute_reply'] || null};
})"""
# What the learner sees in the rendered outputs, widgets' own output areas included. (A
# widget's output area carries no mime type; one closed by its code, as a finished tqdm bar
# with leave=False, is hidden.)
JS_RENDERED_PROBLEMS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const problems = [];
    for (const out of panel.node.querySelectorAll('.widget-output .jp-OutputArea-output')) {
        const mime = out.getAttribute('data-mime-type') || '';
        if (mime.includes('stderr') || mime.includes('error'))
            problems.push({where: 'widget output', mime, text: out.innerText});
    }
    for (const out of panel.node.querySelectorAll('.jp-OutputArea-output:not(.lm-mod-hidden)')) {
        const text = out.innerText;
        if (/Error displaying widget|Error rendering widget|Loading widget[.]{3}/.test(text))
            problems.push({where: 'widget', mime: 'widget-view', text});
    }
    return problems;
}"""
# An explorer's figure: its images' sources, whether they are decoded and laid out (a figure
# can be in the DOM and still show nothing), errors shown in its place, and "running...".
JS_FIGURE_STATE = """([figure, status]) => {
    const imgs = [...figure.querySelectorAll('img')];
    const images = imgs.map(img => img.getAttribute('src') || '');
    const shown = imgs.length > 0 && imgs.every(img => img.complete && img.naturalWidth > 0
        && img.getBoundingClientRect().height > 0);
    const errors = [...figure.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => /stderr|error/.test(o.getAttribute('data-mime-type') || '')).map(o => o.innerText);
    return {images, shown, errors, busy: status ? status.innerText.trim() !== '' : false};
}"""
# Pictures in an explorer's output that are not its figure's: the still picture of its first
# figure, which the output also carries for static views, must not show next to the live widget.
JS_PICTURES_BESIDE = """(box) => {
    const output = box.closest('.jp-OutputArea-child') || box.parentElement;
    const own = new Set(box.querySelectorAll('img'));
    return [...output.querySelectorAll('img')].filter(img => !own.has(img)).length;
}"""
# Decode every image of the notebook before a screenshot, so none is captured half-painted.
JS_DECODE_IMAGES = """(node) => Promise.all(
    [...node.querySelectorAll('img')].map(img => img.decode().catch(() => null)))"""
# Where the last cell ends, in the notebook's scrolling area (below it is only scroll padding).
JS_CONTENT_HEIGHT = """(scroller) => {
    const cells = scroller.querySelectorAll('.jp-Notebook-cell');
    const last = cells[cells.length - 1];
    if (!last) return scroller.scrollHeight;
    return last.getBoundingClientRect().bottom - scroller.getBoundingClientRect().top + scroller.scrollTop;
}"""


@dataclass
class NotebookRun:
    name: str
    problems: list[str] = field(default_factory=list)
    run_s: float = 0.0
    explore_s: float = 0.0
    explorers: int = 0
    controls_moved: int = 0
    screenshots: list[str] = field(default_factory=list)
    total_s: float = 0.0
    kernel_s: float = 0.0
    pages_s: float = 0.0


def stderr_problem(text: str) -> str | None:
    """The stderr text a learner should not see, or None for tqdm progress bars only."""
    lines = [line.strip() for line in re.split(r"[\r\n]+", text)]
    bad = [line for line in lines if line and not TQDM_LINE.search(line)]
    return "\n".join(bad) if bad else None


def short(text: str, n: int = 1200) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # ANSI colours of tracebacks
    return text if len(text) <= n else text[: n // 2] + "\n...\n" + text[-n // 2:]


def kernel_seconds(began: list[str | None], ended: list[str | None]) -> float | None:
    """From the first cell's start to the last cell's reply, on the kernel's clock (the ISO
    timestamps JupyterLab and nbconvert record in each cell's ``execution`` metadata)."""
    began, ended = [t for t in began if t], [t for t in ended if t]
    if not began or not ended:
        return None
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(max(ended)) - parse(min(began))).total_seconds()


def cell_problems(cells: list[dict]) -> list[str]:
    problems = []
    code = [c for c in cells if c["type"] == "code" and c["source"].strip()]
    not_run = [c for c in code if c["count"] is None]
    if not_run:
        first = not_run[0]
        problems.append(f"{len(not_run)} code cell(s) did not run, first: cell {first['index']}: "
                        f"{first['source'][:80]!r}")
    counts = [c["count"] for c in code if c["count"] is not None]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts are not 1..n in order on a fresh kernel: {counts}")
    for c in code:
        for out in c["outputs"]:
            where = f"cell {c['index']} ({c['source'][:60]!r})"
            if out["output_type"] == "error":
                problems.append(f"{where}: error {out['ename']}: {out['evalue']}\n{short(out['traceback'])}")
            elif out["output_type"] == "stream" and out["name"] == "stderr":
                bad = stderr_problem(out["text"])
                if bad:
                    problems.append(f"{where}: stderr (a warning or error, not a progress bar):\n{short(bad)}")
    return problems


class Lesson:
    """One notebook open in its own JupyterLab page (own workspace, own kernel)."""

    def __init__(self, lab: LabServer, context: object, path: str, shots: Path, redraw_timeout_s: float) -> None:
        """``path``: the notebook's path in the server's root, e.g. ``notebooks/01_x.ipynb``."""
        self.lab, self.path, self.shots, self.redraw_timeout_s = lab, path, shots, redraw_timeout_s
        self.name, self.stem = Path(path).name, Path(path).stem
        self.page = context.new_page()
        self.run = NotebookRun(self.name)
        self.started = self.run_clicked = time.perf_counter()
        self.closed = False

    def open(self) -> None:
        # A workspace per notebook, reset: no other notebook is restored into this page.
        self.page.goto(self.lab.url(f"/lab/workspaces/{self.stem}/tree/{self.path}?reset&token={self.lab.token}"))
        self.page.wait_for_function(JS_READY, arg=self.path, timeout=120_000, polling=250)
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # the notebook at full width

    def menu(self, menu: str, item: str) -> None:
        self.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def start(self) -> None:
        """Open the notebook, Edit > Clear Outputs of All Cells, Run > Run All Cells: what a
        learner clicks. Returns at once, while the kernel computes."""
        self.started = time.perf_counter()
        for old in self.shots.glob(f"{self.stem}__*.png"):
            old.unlink()
        self.open()
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function(JS_CLEARED, timeout=30_000)
        self.run_clicked = time.perf_counter()
        self.menu("Run", "Run All Cells")

    def wait_until_done(self, timeout_s: float = RUN_TIMEOUT_S) -> None:
        """Until the kernel is idle and no cell is queued ([*]) any more."""
        self.page.wait_for_function(JS_DONE, timeout=timeout_s * 1000, polling=500)
        self.run.run_s = time.perf_counter() - self.run_clicked

    def check(self) -> NotebookRun:
        """Once the kernel is done: check the outputs, move the explorers, screenshot, close."""
        try:
            self.check_outputs()
            self.explore()
            pages_started = time.perf_counter()
            self.screenshot_pages()
            self.run.pages_s = time.perf_counter() - pages_started
        finally:
            self.close()
        run = self.run
        run.total_s = time.perf_counter() - self.started
        TIMINGS.append({"notebook": run.name, "run_s": run.run_s, "kernel_s": run.kernel_s,
                        "explore_s": run.explore_s, "explorers": run.explorers,
                        "controls_moved": run.controls_moved, "pages_s": run.pages_s,
                        "screens": sum(name.startswith(f"{self.stem}__page") for name in run.screenshots),
                        "total_s": run.total_s})
        return run

    def check_outputs(self) -> None:
        cells = self.page.evaluate(JS_CELLS)
        self.run.problems += cell_problems(cells)
        self.run.kernel_s = kernel_seconds([c.get("began") for c in cells], [c.get("ended") for c in cells]) or 0.0
        for p in self.page.evaluate(JS_RENDERED_PROBLEMS):
            bad = stderr_problem(p["text"]) if "stderr" in p["mime"] else p["text"]
            if bad:
                self.run.problems.append(f"{p['where']} ({p['mime']}): {short(bad)}")

    def shot(self, locator: object, label: str) -> None:
        self.page.mouse.move(0, 0)  # no hover effects (a heading's anchor link) in the picture
        path = self.shots / f"{self.stem}__{label}.png"
        locator.screenshot(path=str(path), animations="disabled")
        self.run.screenshots.append(path.name)

    def figure_state(self, figure: object, status: object | None) -> dict:
        handles = [figure.element_handle(), status.element_handle() if status is not None else None]
        return self.page.evaluate(JS_FIGURE_STATE, handles)

    def move(self, control: object) -> str:
        """Move one control the way a learner does; returns what was done, or '' if nothing could be."""
        classes = control.get_attribute("class") or ""
        if "widget-slider" in classes:
            handle = control.locator(".noUi-handle").first
            readout = control.locator(".widget-readout").first
            before = readout.inner_text()
            handle.focus()
            handle.press("ArrowRight")
            if readout.inner_text() == before:  # at its maximum
                handle.press("ArrowLeft")
            return f"slider {before} -> {readout.inner_text()}"
        if "widget-dropdown" in classes:
            select = control.locator("select")
            options = select.locator("option").all_inner_texts()
            current = select.evaluate("s => s.selectedIndex")
            target = (current + 1) % len(options)
            select.select_option(index=target)
            return f"dropdown {options[current]} -> {options[target]}"
        if "widget-checkbox" in classes:
            control.locator("input").click()
            return "checkbox toggled"
        return ""

    def explore(self) -> None:
        start = time.perf_counter()
        boxes = self.page.locator(".mediarl-explorer, .widget-interact")
        self.run.explorers = boxes.count()
        for k in range(self.run.explorers):
            box = boxes.nth(k)
            is_explorer = "mediarl-explorer" in (box.get_attribute("class") or "")
            figure = box.locator(".mediarl-explorer-figure" if is_explorer else ".widget-output").first
            status = box.locator(".mediarl-explorer-status").first if is_explorer else None
            controls = box.locator(".widget-slider, .widget-dropdown, .widget-checkbox")
            box.scroll_into_view_if_needed()
            self.shot(box, f"explorer{k + 1}_before")
            label = f"explorer {k + 1} of {self.run.explorers}"
            if is_explorer:  # its still picture (image/png, for static views) must not show beside the widget
                beside = box.evaluate(JS_PICTURES_BESIDE)
                if beside:
                    self.run.problems.append(f"{label}: {beside} picture(s) shown beside the live explorer")
            if controls.count() == 0:
                self.run.problems.append(f"{label}: no slider, dropdown or checkbox found to move")
            for j in range(controls.count()):
                before = self.figure_state(figure, status)
                if not before["shown"]:
                    self.run.problems.append(f"{label}: shows no figure before control {j + 1} moves")
                    break
                done = self.move(controls.nth(j))
                if not done:
                    self.run.problems.append(f"{label}: control {j + 1} is of a kind this test cannot move")
                    continue
                deadline = time.monotonic() + self.redraw_timeout_s
                while True:
                    after = self.figure_state(figure, status)
                    if after["errors"]:
                        self.run.problems.append(f"{label}, control {j + 1} ({done}): error in place of the "
                                                 f"figure:\n{short(after['errors'][0])}")
                        break
                    if not after["busy"] and after["shown"] and after["images"] != before["images"]:
                        self.run.controls_moved += 1
                        break
                    if time.monotonic() > deadline:
                        self.run.problems.append(f"{label}, control {j + 1} ({done}): figure not redrawn "
                                                 f"(or not shown) within {self.redraw_timeout_s:g} s")
                        break
                    self.page.wait_for_timeout(100)
            box.scroll_into_view_if_needed()
            self.shot(box, f"explorer{k + 1}_after")
        self.run.explore_s = time.perf_counter() - start

    def screenshot_pages(self) -> None:
        """The whole notebook, one screen at a time, top to bottom."""
        panel = self.page.locator(".jp-NotebookPanel:visible").first
        scroller = panel.locator(".jp-WindowedPanel-outer").first
        height, view = scroller.evaluate(JS_CONTENT_HEIGHT), scroller.evaluate("s => s.clientHeight")
        panel.evaluate(JS_DECODE_IMAGES)
        for part in range(max(1, -(-int(height) // view))):
            scroller.evaluate("(s, top) => { s.scrollTop = top; }", part * view)
            self.page.wait_for_timeout(150)
            self.shot(panel, f"page{part + 1:02d}")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for session in self.lab.api("GET", "/api/sessions"):
            if session["path"] == self.path:
                self.lab.api("DELETE", f"/api/sessions/{session['id']}")
        self.page.close()


def committed_run_seconds(name: str) -> float:
    """How long the committed notebook took to execute (nbconvert records each cell's kernel
    timestamps); 60 s when it does not say."""
    cells = [c for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells if c.cell_type == "code"]
    stamps = [c.metadata.get("execution", {}) for c in cells]
    seconds = kernel_seconds([t.get("iopub.status.busy") for t in stamps],
                             [t.get("shell.execute_reply") for t in stamps])
    return 60.0 if seconds is None else seconds


def test_a_lesson_notebook_is_there() -> None:
    assert LESSONS, f"no lesson notebooks (NN_name.ipynb) in {NOTEBOOKS}"


def write_timings(path: Path) -> None:
    """One line per lesson, the latest run of each (pytest-xdist workers print no summary of
    their own, so each merges the lessons it drove into the file, under a lock)."""
    with path.open("a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        driven = {t["notebook"] for t in TIMINGS}
        lines = [line for line in file.read().splitlines() if line and line.split(":")[0] not in driven]
        lines += [timing_line(t) for t in TIMINGS]
        file.seek(0)
        file.truncate()
        file.write("".join(line + "\n" for line in sorted(lines)))


# Longest first: under pytest-xdist each lesson is a work unit of its own (conftest.py at the
# top of the repository), and the longest start first so that no worker is left with one at
# the end while the others are idle.
@pytest.mark.parametrize("name", sorted(LESSONS, key=lambda name: -committed_run_seconds(name)))
def test_lesson_runs_and_its_explorers_redraw_in_jupyterlab(request, screenshot_dir, name) -> None:
    reason = lesson_left_out(name)
    if reason:
        pytest.skip(f"{name}: {reason}")
    # Only now: a run whose lessons are all skipped starts no server and no browser.
    lab, context = request.getfixturevalue("lab"), request.getfixturevalue("chromium_context")
    lesson = Lesson(lab, context, f"notebooks/{name}", screenshot_dir, REDRAW_TIMEOUT_S)
    try:
        lesson.start()
        lesson.wait_until_done()
        run = lesson.check()
    finally:
        lesson.close()
    write_timings(screenshot_dir / "timings.txt")
    assert not run.problems, (f"{name} in JupyterLab ({len(run.problems)} problem(s); screenshots in "
                              f"{screenshot_dir}):\n\n" + "\n\n".join(run.problems))


# The checks above must be able to fail: a small notebook with one defect of each kind.
FAULTY_CELLS = [
    "import sys, time, warnings\nimport ipywidgets as widgets\nimport matplotlib.pyplot as plt\n"
    "from mediarl_lessons.widgets import explorer",
    # a tqdm-style bar on stderr is fine
    "for i in range(3):\n    sys.stderr.write(f'\\rtraining: {i + 1}/3 [00:0{i}<00:00, 9.50it/s]')",
    "warnings.warn('a stray warning')",
    textwrap.dedent("""\
        def draw_same(level):  # ignores its control: never redraws anything new
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.plot([0, 1], [0, 1])
            return fig
        explorer(draw_same, {"level": widgets.FloatSlider(value=0.5, min=0, max=1, step=0.1)})"""),
    textwrap.dedent("""\
        def draw_fragile(level):  # fails once the slider moves
            if level > 0.5:
                raise ValueError(f"cannot draw level {level}")
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.set_title(f"level {level}")
            return fig
        explorer(draw_fragile, {"level": widgets.FloatSlider(value=0.5, min=0, max=1, step=0.1)})"""),
    textwrap.dedent("""\
        def draw_good(level, kind):
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.set_title(f"{kind}: level {level}")
            return fig
        explorer(draw_good, {"level": widgets.FloatSlider(value=1.0, min=0, max=1, step=0.1),
                             "kind": widgets.Dropdown(options=["views", "clicks"])})"""),
    # a widget view whose model does not exist: JupyterLab shows an error in its place
    "from IPython.display import display\ndisplay({'application/vnd.jupyter.widget-view+json': "
    "{'model_id': 'no-such-model', 'version_major': 2, 'version_minor': 0}, 'text/plain': 'a widget'}, raw=True)",
    "raise RuntimeError('the lesson broke here')",
    "print('never reached')",
]


def test_the_checks_catch_errors_warnings_and_dead_explorers(lab, chromium_context, tmp_path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in FAULTY_CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    (lab.root / "selftest").mkdir(exist_ok=True)
    nbformat.write(notebook, lab.root / "selftest" / "99_faulty.ipynb")
    lesson = Lesson(lab, chromium_context, "selftest/99_faulty.ipynb", tmp_path, redraw_timeout_s=5)
    lesson.start()
    lesson.wait_until_done(timeout_s=120)
    run = lesson.check()
    TIMINGS.pop()  # not a lesson
    report = "\n".join(run.problems)
    assert "1 code cell(s) did not run" in report and "print('never reached')" in report, report
    assert "error RuntimeError: the lesson broke here" in report, report
    assert "a stray warning" in report, report
    assert "widget (widget-view)" in report, "a widget that cannot render must be reported\n" + report
    assert "training:" not in report, "a progress bar on stderr is not a defect:\n" + report
    assert run.explorers == 3, report
    assert "explorer 1 of 3, control 1" in report and "figure not redrawn" in report, report
    assert "explorer 2 of 3, control 1" in report and "cannot draw level 0.6" in report, report
    assert "explorer 3 of 3" not in report, report
    assert run.controls_moved == 2, "the good explorer's slider (at its maximum) and dropdown\n" + report
