"""The course's website: Sphinx with MyST-NB and the book theme, built by ``mediarl-lessons book``.

The source folder is the repository's root and this folder holds the configuration
(``sphinx-build -c docs . OUT``), so the lessons (``notebooks/``), the exercises
(``exercises/``) and these documents keep their places and their links to each other.
Everything else in the repository (``solutions/`` above all) stays out of the site.

The notebooks are rendered as committed, outputs and all: nothing is executed. A page per
environment is written at build time from its docstring (``docs/environments/``,
git-ignored), and the API pages come from the package's docstrings (autodoc). MathJax is
served from the site itself (sphinx-mathjax-offline): the site loads nothing from elsewhere.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

from sphinx.ext.napoleon import Config as NapoleonConfig
from sphinx.ext.napoleon.docstring import GoogleDocstring

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))  # the package of this checkout, whatever is installed

project = "Reinforcement learning for media decisions"
author = "the mediarl_lessons authors"
copyright = "the mediarl_lessons authors (MIT licence)"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: math renders without a network
]

root_doc = "docs/index"
# Only these are pages; the walk skips the folders that hold nothing for the site.
include_patterns = ["docs/**", "notebooks/[0-9]*.ipynb", "exercises/*.ipynb", "exercises/README.md"]
exclude_patterns = [".*", "_build", "build", "dist", "solutions", "tests", "bench", "mediarl_lessons",
                    "*.egg-info", "docs/_templates"]
templates_path = ["_templates"]  # relative to this folder
# The site's address is the root: it sends the reader on to the home page (docs/index).
html_additional_pages = {"index": "redirect.html"}

# Markdown (MyST): $...$ and $$...$$ math as the notebooks write it, GitHub-style heading
# anchors (grading.md#each-function-alone), ::: fences.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 4

# Notebooks as committed: never executed here.
nb_execution_mode = "off"
# An explorer's output carries a widget view and a still picture of its first figure
# (mediarl_lessons/widgets.py): a static page cannot run the widget, so it shows the picture.
# No widget JavaScript is loaded (it would come from a CDN), and the saved widget state is
# left out of the pages (see static_notebook below).
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js: dict = {}

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The package's docstrings are reST-like plain text (``code``, :func:`roles`, "Arguments:" above a
# list): docstring_to_rest below makes their few layout habits valid reST. Napoleon reads only the
# Google-style "Args:" sections: as an extension it would also take the first words of every
# constant's comment ("Discount used for X: ...") for its type.

html_theme = "sphinx_book_theme"
html_title = "RL for media decisions"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,  # each lesson's .ipynb, to run it yourself
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
}
# Light unless the reader switches (the theme logs a console error on a first visit without one).
html_context = {"default_mode": "light"}
html_copy_source = True


# --- the environment pages, from ENVIRONMENTS and each class's docstring ---------------------

ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|data|attr):`([^`]+)`")


def environment_page(env_id: str, env_class: type, kwargs: dict, description: str) -> str:
    """One environment's page: its id, how to make it, and its docstring (Gymnasium-style
    markdown: ``## Description``, ``## Action Space``, ...) as the page's sections."""
    doc = inspect.cleandoc(env_class.__doc__ or "")
    doc = ROLE.sub(lambda m: f"{{py:{m.group(1)}}}`{m.group(2)}`", doc)  # reST roles, as MyST writes them
    made_with = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    return "\n".join([
        f"# {env_id.split('/')[-1]}",
        "",
        f"{description}",
        "",
        "```python",
        "import gymnasium as gym",
        "import mediarl_lessons  # registers the environments",
        "",
        f"env = gym.make({env_id!r})",
        "```",
        "",
        f"The class is `{env_class.__module__}.{env_class.__qualname__}`"
        + (f"; `gym.make` gives it `{made_with}`." if made_with else "."),
        "",
        doc,
        "",
    ])


def write_environment_pages(app: object) -> None:
    """docs/environments/: an index and a page per id of ``mediarl_lessons.envs.ENVIRONMENTS``.
    A page is rewritten only when its text changed, so an unchanged one is not rebuilt."""
    from mediarl_lessons.envs import ENVIRONMENTS

    folder = DOCS / "environments"
    folder.mkdir(exist_ok=True)
    pages = {f"{env_id.split('/')[-1]}.md": environment_page(env_id, *entry) for env_id, entry in ENVIRONMENTS.items()}
    rows = [f"| [`{env_id}`]({env_id.split('/')[-1]}.md) | {entry[2]} |" for env_id, entry in ENVIRONMENTS.items()]
    pages["index.md"] = "\n".join([
        "# The environments", "",
        "Every environment of the course is an ordinary Gymnasium environment, registered by "
        "`import mediarl_lessons`. Each page below is its docstring: what it models, its spaces, rewards, "
        "episode end, the oracle quantities in `info`, and its arguments.", "",
        "| id | what it is |", "|---|---|", *rows, "",
        "```{toctree}", ":hidden:", "", *(name[:-3] for name in pages if name != "index.md"), "```", ""])
    for old in folder.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


# --- the home page: README's sections, with the lessons and exercises linked ------------------

def link_lessons(app: object, relative_path: Path, parent_docname: str, content: list[str]) -> None:
    """README.md names the lessons and exercises in code (`01_bandits_live_channels`); on the
    site each such name links to its page."""
    if Path(relative_path).name != "README.md" or Path(relative_path).parent != Path("."):
        return

    def link(match: re.Match) -> str:
        name = match.group(1)
        for folder in ("notebooks", "exercises"):
            if (REPO / folder / f"{name}.ipynb").exists():
                return f"{{doc}}`{name} </{folder}/{name}>`"
        return match.group(0)

    content[0] = re.sub(r"`(\d\d_\w+)`", link, content[0])


# --- notebooks: what a static page can show of their widgets ----------------------------------

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def static_notebook(app: object, docname: str, source: list[str]) -> None:
    """A lesson's widgets as a static page can show them. An explorer's output carries a still
    picture of its figure (shown instead of the widget, see ``nb_mime_priority_overrides``). A
    widget output with nothing but its plain-text form is a progress bar, whose text is the
    bar at 0%, before it ran: left out. The saved widget state, for JavaScript the site does not
    load, is left out too."""
    if not docname.startswith(("notebooks/", "exercises/")) or not source[0].lstrip().startswith("{"):
        return
    notebook = json.loads(source[0])
    notebook.get("metadata", {}).pop("widgets", None)
    for cell in notebook.get("cells", []):
        if "outputs" in cell:
            cell["outputs"] = [output for output in cell["outputs"]
                               if set(output.get("data", {})) != {WIDGET_VIEW, "text/plain"}]
    source[0] = json.dumps(notebook)


# --- docstrings: the package's plain-text layout as reST --------------------------------------

GOOGLE_ARGS = NapoleonConfig(napoleon_numpy_docstring=False)
UNDERLINE = re.compile(r"[-=~^]{3,}")
LIST_ITEM = re.compile(r"\s*(?:[-*] |\d+\. )")
LEAD_IN = re.compile(r"\s*(Args|Arguments|Attributes|Returns|Raises|Examples?|Notes?):\s*$")


def docstring_to_rest(app: object, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    """Section titles underlined with ``-----`` (in module docstrings) become rubrics, which a
    docstring may hold; a lead-in line such as ``Arguments:`` followed by a list becomes a
    rubric above it; a list right after a paragraph gets the blank line reST needs."""
    out: list[str] = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and not line.startswith(" ") and UNDERLINE.fullmatch(following.strip() or "x") \
                and len(following.strip()) >= len(line.strip()):
            out += [f".. rubric:: {line.strip()}", ""]
            continue
        if UNDERLINE.fullmatch(line.strip() or "x") and out[-2:] and out[-2].startswith(".. rubric::"):
            continue
        lead_in = LEAD_IN.fullmatch(line)
        if lead_in and LIST_ITEM.match(following):
            out += [f".. rubric:: {lead_in.group(1)}", ""]
            continue
        previous = out[-1] if out else ""
        if LIST_ITEM.match(line) and previous.strip() and not LIST_ITEM.match(previous) \
                and not previous.startswith(" ") and not line.startswith(" "):
            out.append("")
        out.append(line)
    if what in ("class", "function", "method") and any(line.strip() == "Args:" for line in out):
        out = GoogleDocstring(out, GOOGLE_ARGS, what=what, name=name, obj=obj).lines()
    lines[:] = out


def setup(app: object) -> dict:
    app.connect("builder-inited", write_environment_pages)
    app.connect("include-read", link_lessons)
    app.connect("source-read", static_notebook)
    app.connect("autodoc-process-docstring", docstring_to_rest)
    return {"parallel_read_safe": True}
