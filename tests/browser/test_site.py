"""The course's website (``mediarl-lessons book``), built once and read page by page in headless Chromium.

The site is built from the committed notebooks into a temporary folder (a session fixture:
one build per session, timed against its budget of 2 minutes), served on 127.0.0.1 by a
thread of ``http.server``, and every page is opened in the browser tests' Chromium. A page
fails on:

- a console error or an uncaught JavaScript error;
- a request to anywhere but the test's own server (blocked and recorded: the site must work
  offline, MathJax included);
- a link (``<a href>``) within the site to a page or file that is not there, or to an anchor
  that is not on its page;
- an image that does not load (``naturalWidth`` 0);
- math left as raw ``$...$`` in the text (MathJax did not typeset it);
- a lesson page showing fewer figures than its notebook holds image outputs.

Also checked: every lesson and every exercise notebook has its page and no solution does, each
environment page shows its docstring's sections as headings, the lessons follow each other
with previous/next links, and the search finds a lesson. A screenshot of each page (its first
screen) and of each lesson's explorers goes to tests/browser/screenshots/site/ (git-ignored).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from lab_harness import REPO

pytestmark = pytest.mark.browser

BUILD_BUDGET_S = 120
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((REPO / "exercises").glob("*.ipynb"))

# Math left for MathJax that it did not typeset: a $...$ pair in the page's visible text,
# outside code. (MathJax replaces what it typesets with its own elements.)
JS_RAW_MATH = r"""() => {
    const root = document.querySelector('main') || document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest('pre, code, script, style, mjx-container, .highlight')) continue;
        const match = node.textContent.match(/\$[^$\s][^$]*\$/);
        if (match) found.push(match[0].slice(0, 80));
    }
    return found;
}"""
JS_LINKS = """() => [...document.querySelectorAll('a[href]')].map(a => a.href)"""
JS_IMAGES = """async () => {
    const imgs = [...document.querySelectorAll('img')];
    imgs.forEach(img => { img.loading = 'eager'; });
    await Promise.all(imgs.map(img => img.decode().catch(() => null)));
    return imgs.map(img => ({src: img.getAttribute('src') || '', width: img.naturalWidth}));
}"""
JS_MATHJAX_DONE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    return true;
}"""


def image_outputs(notebook: Path) -> list[bool]:
    """One entry per image output of the notebook, in order: True where it is an explorer's still
    picture (an output that is a widget view too)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["application/vnd.jupyter.widget-view+json" in output["data"] for cell in cells
            for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The site, built once per session by the README's command, and how long the build took."""
    out = tmp_path_factory.mktemp("site")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mediarl_lessons", "book", "--out", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"mediarl-lessons book failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return out, seconds


@pytest.fixture(scope="session")
def site_url(built_site: tuple[Path, float]) -> Iterator[str]:
    server, url = serve(built_site[0])
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_shots(screenshot_dir: Path) -> Path:
    folder = screenshot_dir / "site"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class SiteChecker:
    """Opens pages of a site served at ``base`` and lists what is wrong with each."""

    def __init__(self, context: object, base: str, shots: Path | None) -> None:
        self.context, self.base, self.shots = context, base, shots
        self.origin = urlsplit(base).netloc
        self.fetched: dict[str, str | None] = {}  # url without fragment -> its text (None: missing)

    def fetch(self, url: str) -> str | None:
        if url not in self.fetched:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    self.fetched[url] = response.read().decode("utf-8", errors="replace")
            except (urllib.error.HTTPError, urllib.error.URLError):
                self.fetched[url] = None
        return self.fetched[url]

    def link_problem(self, href: str) -> str | None:
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc != self.origin:
            return None  # outside the site (or mailto:): not followed
        target = href.split("#")[0]
        text = self.fetch(target)
        if text is None:
            return f"broken link: {href}"
        fragment = unquote(parts.fragment)
        if fragment and target.endswith(".html") and not re.search(rf'id="{re.escape(fragment)}"', text):
            return f"link to a missing anchor: {href}"
        return None

    def check(self, path: str, shot: str | None = None) -> tuple[list[str], object]:
        """Open one page; returns its problems and the page (still open: close it)."""
        page = self.context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))

        def route(r: object) -> None:
            if urlsplit(r.request.url).netloc == self.origin or r.request.url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                problems.append(f"request to outside the site: {r.request.url}")
                r.abort()

        page.route("**/*", route)
        response = page.goto(urljoin(self.base + "/", path), wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{path}: HTTP {response.status if response else 'no response'}")
        page.evaluate(JS_MATHJAX_DONE)
        for image in page.evaluate(JS_IMAGES):
            if image["width"] == 0:
                problems.append(f"image not shown: {image['src'][:100]}")
        for raw in page.evaluate(JS_RAW_MATH):
            problems.append(f"math left unrendered: {raw}")
        for href in sorted(set(page.evaluate(JS_LINKS))):
            problem = self.link_problem(href)
            if problem:
                problems.append(problem)
        if shot and self.shots is not None:
            page.mouse.move(0, 0)
            page.screenshot(path=str(self.shots / f"{shot}.png"))
        return problems, page


def site_pages(folder: Path) -> list[str]:
    """Every page but the site's root, which only sends the reader on to the home page."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.html")
                  if not str(p.relative_to(folder)).startswith(("_static", "_sources", "_images"))
                  and str(p.relative_to(folder)) != "index.html")


def test_the_site_builds_within_its_budget_with_every_lesson_and_exercise_and_no_solution(built_site):
    folder, seconds = built_site
    assert seconds < BUILD_BUDGET_S, f"the site took {seconds:.0f} s to build (budget {BUILD_BUDGET_S} s)"
    pages = site_pages(folder)
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}.html" in pages, f"no page for lesson {notebook.name}"
    for notebook in EXERCISES:
        assert f"exercises/{notebook.stem}.html" in pages, f"no page for exercise {notebook.name}"
    assert len([p for p in pages if p.startswith("notebooks/")]) == len(NOTEBOOKS)
    leaked = [str(p.relative_to(folder)) for p in folder.rglob("*") if "solutions" in p.relative_to(folder).parts]
    assert not leaked, f"the site holds solutions: {leaked[:5]}"
    # check() and the solutions' code are not on the exercise pages: an exercise asks for the function.
    for notebook in EXERCISES:
        text = re.sub(r"<[^>]+>", "", (folder / "exercises" / f"{notebook.stem}.html").read_text(encoding="utf-8"))
        assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text, notebook.name


def test_every_page_loads_offline_without_errors_broken_links_images_or_raw_math(
        built_site, site_url, chromium_context, site_shots):
    folder, _ = built_site
    checker = SiteChecker(chromium_context, site_url, site_shots)
    report = []
    pages = site_pages(folder)
    assert len(pages) >= len(NOTEBOOKS) + len(EXERCISES) + 10, pages
    for path in pages:
        problems, page = checker.check(path, shot=path[:-5].replace("/", "__"))
        notebook = REPO / "notebooks" / f"{Path(path).stem}.ipynb"
        if path.startswith("notebooks/") and notebook.exists():
            expected = image_outputs(notebook)
            figures = page.locator(".cell_output img")
            if figures.count() < len(expected):
                problems.append(f"{figures.count()} figure(s) on the page, {len(expected)} image output(s) in "
                                f"{notebook.name}")
            else:  # each explorer's still picture, as the reader sees it
                for k, index in enumerate(i for i, still in enumerate(expected) if still):
                    figures.nth(index).scroll_into_view_if_needed()
                    figures.nth(index).screenshot(path=str(site_shots / f"{notebook.stem}__explorer{k + 1}.png"))
        page.close()
        report += [f"{path}: {problem}" for problem in problems]
    assert not report, f"{len(report)} problem(s) on the site:\n" + "\n".join(report[:60])


def test_a_lesson_shows_each_explorers_still_figure_with_its_note(built_site, site_url, chromium_context, site_shots):
    """The first explorer of lesson 01 is a picture on the site, saying how to move its controls."""
    checker = SiteChecker(chromium_context, site_url, site_shots)
    notebook = next(n for n in NOTEBOOKS if n.name.startswith("01_"))
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    stills = [o for c in cells for o in c.get("outputs", [])
              if {"image/png", "application/vnd.jupyter.widget-view+json"} <= set(o.get("data", {}))]
    assert stills, f"{notebook.name} has no explorer with a still picture (re-execute it with widgets.py)"
    assert "run this notebook in JupyterLab" in "".join(stills[0]["data"]["text/plain"])
    problems, page = checker.check(f"notebooks/{notebook.stem}.html")
    try:
        html = (built_site[0] / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert "widget-view+json" not in html and "widget-state+json" not in html, "widget JSON left in the page"
        expected = image_outputs(notebook)
        figures = page.locator(".cell_output img")
        assert figures.count() == len(expected), (figures.count(), len(expected))
        still = figures.nth(expected.index(True))
        still.scroll_into_view_if_needed()
        box = still.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, box
        # The picture is the output's image/png: the same bytes, with the note drawn below the figure.
        source = still.get_attribute("src")
        assert source and source.endswith(".png"), source
    finally:
        page.close()
    assert not problems, problems


def test_environment_pages_show_the_docstring_sections_as_headings(site_url, chromium_context):
    from mediarl_lessons.envs import ENVIRONMENTS

    checker = SiteChecker(chromium_context, site_url, None)
    for env_id, (env_class, _, _) in ENVIRONMENTS.items():
        sections = re.findall(r"^## (.+)$", env_class.__doc__.replace("\n    ", "\n"), flags=re.M)
        assert len(sections) >= 5, env_id
        _, page = checker.check(f"docs/environments/{env_id.split('/')[-1]}.html")
        try:
            headings = [h.strip().rstrip("#").strip() for h in page.locator("article h2").all_inner_texts()]
            assert headings == sections, f"{env_id}: headings {headings}, docstring sections {sections}"
            tables = env_class.__doc__.count("\n    |---") + env_class.__doc__.count("\n    | ---")
            assert page.locator("main table").count() >= tables, env_id
        finally:
            page.close()


def test_lessons_follow_each_other_and_the_search_finds_a_lesson(site_url, chromium_context):
    checker = SiteChecker(chromium_context, site_url, None)
    page = chromium_context.new_page()
    try:
        page.goto(site_url + "/")
        page.wait_for_url("**/docs/index.html", timeout=30_000)  # the root sends the reader to the home page
        assert page.locator("a[href$='01_bandits_live_channels.html']").count() >= 1, "no lesson map on the home page"
    finally:
        page.close()
    for before, after in zip(NOTEBOOKS, NOTEBOOKS[1:]):
        _, page = checker.check(f"notebooks/{before.stem}.html")
        try:
            following = page.locator("a.right-next").get_attribute("href")
            assert following and following.endswith(f"{after.stem}.html"), (before.name, following)
        finally:
            page.close()
        _, page = checker.check(f"notebooks/{after.stem}.html")
        try:
            previous = page.locator("a.left-prev").get_attribute("href")
            assert previous and previous.endswith(f"{before.stem}.html"), (after.name, previous)
        finally:
            page.close()
    problems, page = checker.check("search.html?q=thompson")
    try:
        page.wait_for_function("() => document.querySelectorAll('#search-results li').length > 0", timeout=30_000)
        hits = page.evaluate("() => [...document.querySelectorAll('#search-results li a')].map(a => a.href)")
        assert any("notebooks/01_bandits_live_channels.html" in hit for hit in hits), hits
    finally:
        page.close()
    assert not problems, problems


# The checks above must be able to fail: a small site with one defect of each kind.
FAULTY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="https://cdn.example.org/library.js"></script></head>
<body><main>
<p>The value $V(s)$ of a state, left raw.</p>
<p><a href="missing.html">a broken link</a> <a href="index.html#no-such-anchor">a missing anchor</a>
<a href="index.html">a good link</a> <a href="https://example.org/">an outside link, not followed</a></p>
<img src="no-such-image.png" alt="broken"><img src="good.png" alt="good">
<script>console.error("something broke"); undefinedFunction();</script>
</main></body></html>"""


def test_the_checks_catch_errors_outside_requests_broken_links_images_and_raw_math(chromium_context, tmp_path):
    import base64

    (tmp_path / "index.html").write_text(FAULTY_PAGE, encoding="utf-8")
    (tmp_path / "good.png").write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))
    server, url = serve(tmp_path)
    try:
        problems, page = SiteChecker(chromium_context, url, None).check("index.html")
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    report = "\n".join(problems)
    assert "request to outside the site: https://cdn.example.org/library.js" in report, report
    assert "console error: something broke" in report, report
    assert "JavaScript error" in report and "undefinedFunction" in report, report
    assert "math left unrendered: $V(s)$" in report, report
    assert "broken link" in report and "missing.html" in report, report
    assert "missing anchor" in report and "no-such-anchor" in report, report
    assert "image not shown: no-such-image.png" in report, report
    assert "example.org/\n" not in report + "\n" and "good.png" not in report, report
    # and two console errors that come with them: the blocked request, the missing image (404)
    assert len(problems) == 9, report
