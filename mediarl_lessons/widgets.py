"""Interactive explorers for the lessons: sliders that re-run a small experiment and redraw.

Every explorer is built by :func:`explorer`: a row of controls above a figure. Moving a
control (on release, not while dragging: each redraw runs an experiment) calls the lesson's
``draw`` function with the controls' values and shows the figure it returns in place of the
old one. Outside a live notebook (nbval, nbconvert) the first figure is drawn once, so a
lesson that shows an explorer still runs top to bottom headless.

The first figure goes into the Output widget's state (its ``outputs``), not through
``with figure_area: display(...)``. Headless, nbclient (behind ``jupyter nbconvert --execute``
and ``bench/lessons.py``) stands in for the widget's front end: it echoes every output routed
to an Output widget back to the kernel on the shell channel, with a plain send on the socket
its event loop is watching for the cell's ``execute_reply``. If the reply has just arrived,
that send swallows the socket's only wake-up, and nbclient sleeps until its cell timeout (600 s,
say) before it finds the reply and carries on, outputs and exit code fine.
Outputs set as widget state are never echoed. Later figures (a control moved, by a person at a
live notebook, whose front end is a browser) keep the ``with`` block, which shows a later
draw's error in place of the figure.

An error in the first draw fails the cell that builds the explorer. An error in a later draw
(a control moved to a value ``draw`` cannot handle) shows its traceback in place of the
figure, where the learner is looking, rather than in JupyterLab's log console.

A reader without a kernel sees the first figure too. The explorer's box displays with the
usual widget view and, beside it in the same output, a still picture of that figure
(``image/png``) with a strip below it naming the controls' starting values and saying that
moving them needs a running notebook in JupyterLab; the plain-text view says the same. A live
front end (JupyterLab) shows one of an output's representations, the widget, so the picture
never appears next to it; a static view (GitHub, the course's website) cannot show a widget
and shows the picture instead.

The parts carry CSS classes, so browser tests (``tests/browser``) can find them:
``mediarl-explorer`` (the whole box), ``mediarl-explorer-controls`` (the row of controls),
``mediarl-explorer-status`` (says "running..." while ``draw`` runs) and
``mediarl-explorer-figure`` (the figure).
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure

#: What a static view says under an explorer's picture (and in its plain-text view).
STILL_NOTE = "A still picture: to move the controls, run this notebook in JupyterLab."


class _ExplorerBox(widgets.VBox):
    """The explorer's box: a live widget in JupyterLab, a still picture of its first figure elsewhere.

    Its display carries, besides the widget view, ``image/png`` (the first figure with a line
    naming the controls' starting values and :data:`STILL_NOTE`) and a plain-text note: a
    front end shows the richest representation it can render, so JupyterLab shows the widget
    alone and a static view shows the picture.
    """

    still_png: str | None = None  # base64, as the image/png of a Jupyter output
    still_text: str = ""

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.still_text
        if self.still_png is not None:
            bundle["image/png"] = self.still_png
        return bundle


def explorer(draw: Callable[..., Figure], controls: dict[str, widgets.ValueWidget], *,
             description: str = "") -> widgets.VBox:
    """Controls above a figure that ``draw(**values)`` redraws whenever a control changes.

    ``controls`` maps each keyword argument of ``draw`` to the widget that sets it (a
    slider, a dropdown, ...). ``draw`` must return a matplotlib ``Figure``; the explorer shows
    it and closes it, so figures do not pile up in memory.
    """
    if not controls:
        raise ValueError("controls must name at least one widget")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget (a slider, a "
                            f"dropdown, ...), got {type(control).__name__}")
        if hasattr(control, "continuous_update"):
            control.continuous_update = False  # redraw when the slider is released
        control.style = {"description_width": "initial"}

    figure_area = widgets.Output(layout=widgets.Layout(min_height="320px"))
    figure_area.add_class("mediarl-explorer-figure")
    status = widgets.HTML()
    status.add_class("mediarl-explorer-status")

    def redraw(change: object = None) -> None:
        values = {name: control.value for name, control in controls.items()}
        status.value = "<i>running...</i>"
        figure = None
        try:
            if change is None:  # the first figure: an error fails the cell building the explorer
                figure = draw(**values)
                # As state, not as output routed to the widget: see the module docstring.
                figure_area.outputs = (_display_output(figure),)
                box.still_text = f"{_settings(controls)}\n{STILL_NOTE}"
                box.still_png = _still_png(figure, box.still_text)
                return
            # Inside the Output widget, an error raised by a later draw shows (in a live
            # notebook) as a traceback that replaces the old figure.
            with figure_area:
                figure_area.clear_output(wait=True)
                figure = draw(**values)
                display(figure)
        finally:
            if figure is not None:
                plt.close(figure)
            status.value = ""

    controls_row = widgets.HBox(list(controls.values()) + [status])
    controls_row.add_class("mediarl-explorer-controls")
    children = [controls_row]
    if description:
        children.insert(0, widgets.HTML(f"<b>{description}</b>"))
    box = _ExplorerBox(children + [figure_area])
    box.add_class("mediarl-explorer")
    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return box


def _settings(controls: dict[str, widgets.ValueWidget]) -> str:
    """The controls' values as a reader sees them: "epsilon = 0.1, audience CTR = high"."""
    parts = []
    for name, control in controls.items():
        label = getattr(control, "label", None)  # a dropdown's shown option, not its value
        parts.append(f"{control.description or name} = {control.value if label is None else label}")
    return "Starting settings: " + ", ".join(parts)


def _still_png(figure: Figure, note: str) -> str:
    """The figure as a PNG (base64) with ``note`` in small grey type in a strip below it (below
    everything the figure draws, a legend under the axes included); the figure is not changed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", facecolor="white")
    picture = mpimg.imread(io.BytesIO(buffer.getvalue()), format="png")
    width, dpi, points = picture.shape[1], figure.dpi, 9
    chars_per_line = max(20, int(width / (0.55 * points * dpi / 72)))
    lines = [piece for line in note.splitlines() for piece in textwrap.wrap(line, chars_per_line)]
    strip = Figure(figsize=(width / dpi, (len(lines) * 1.5 * points + 8) / 72), dpi=dpi, facecolor="white")
    strip.text(4 / width, 0.5, "\n".join(lines), ha="left", va="center", fontsize=points, color="0.3",
               linespacing=1.5)
    buffer = io.BytesIO()
    strip.savefig(buffer, format="png", facecolor="white")
    below = mpimg.imread(io.BytesIO(buffer.getvalue()), format="png")
    below = np.pad(below[:, :width], ((0, 0), (0, max(0, width - below.shape[1])), (0, 0)), constant_values=1.0)
    buffer = io.BytesIO()
    mpimg.imsave(buffer, np.concatenate([picture[..., :3], below[..., :3]]), format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _display_output(figure: Figure) -> dict:
    """The ``display_data`` output that ``display(figure)`` would send, as an Output widget holds it."""
    shell = get_ipython()
    if shell is None:  # plain Python (a test): no display formatter, and no front end to show it
        return {"output_type": "display_data", "data": {"text/plain": repr(figure)}, "metadata": {}}
    data, metadata = shell.display_formatter.format(figure)
    return {"output_type": "display_data", "data": data, "metadata": metadata}
