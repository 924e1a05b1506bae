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

The parts carry CSS classes, so browser tests (``tests/browser``) can find them:
``mediarl-explorer`` (the whole box), ``mediarl-explorer-controls`` (the row of controls),
``mediarl-explorer-status`` (says "running..." while ``draw`` runs) and
``mediarl-explorer-figure`` (the figure).
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure


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

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    controls_row = widgets.HBox(list(controls.values()) + [status])
    controls_row.add_class("mediarl-explorer-controls")
    children = [controls_row]
    if description:
        children.insert(0, widgets.HTML(f"<b>{description}</b>"))
    box = widgets.VBox(children + [figure_area])
    box.add_class("mediarl-explorer")
    return box


def _display_output(figure: Figure) -> dict:
    """The ``display_data`` output that ``display(figure)`` would send, as an Output widget holds it."""
    shell = get_ipython()
    if shell is None:  # plain Python (a test): no display formatter, and no front end to show it
        return {"output_type": "display_data", "data": {"text/plain": repr(figure)}, "metadata": {}}
    data, metadata = shell.display_formatter.format(figure)
    return {"output_type": "display_data", "data": data, "metadata": metadata}
