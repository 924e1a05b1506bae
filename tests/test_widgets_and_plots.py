"""Explorers redraw when a control moves; the shared plots label what they draw."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mediarl_lessons.agents import EpsilonGreedy  # noqa: E402
from mediarl_lessons.envs import BanditTestbed  # noqa: E402
from mediarl_lessons.experiments import run_testbed  # noqa: E402
from mediarl_lessons.plotting import plot_curves, plot_policy_returns, plot_testbed  # noqa: E402
from mediarl_lessons.widgets import explorer  # noqa: E402


def test_explorer_draws_once_then_once_per_change_and_releases_figures():
    seen = []

    def draw(epsilon, label):
        seen.append((epsilon, label))
        figure, ax = plt.subplots()
        ax.set_title(f"{label} {epsilon}")
        return figure

    slider = widgets.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05)
    dropdown = widgets.Dropdown(options=["a", "b"], value="a")
    before = len(plt.get_fignums())
    box = explorer(draw, {"epsilon": slider, "label": dropdown}, description="try it")
    slider.value = 0.3
    dropdown.value = "b"
    assert seen == [(0.1, "a"), (0.3, "a"), (0.3, "b")]
    assert slider.continuous_update is False, "each redraw runs an experiment: only on release"
    assert len(plt.get_fignums()) == before, "explorer figures must be closed after display"
    assert isinstance(box, widgets.VBox)


def test_explorer_rejects_what_is_not_a_control():
    with pytest.raises(ValueError, match="controls"):
        explorer(lambda: None, {})
    with pytest.raises(TypeError, match=r"controls\['epsilon'\] must be an ipywidgets value widget"):
        explorer(lambda epsilon: None, {"epsilon": 0.1})


def test_plot_curves_draws_mean_and_band_per_label():
    curves = {"a": np.ones((5, 10)), "b": np.arange(20.0).reshape(2, 10)}
    ax = plot_curves(curves, xlabel="step", ylabel="reward", title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), np.arange(5.0, 15.0))
    assert len(ax.collections) == 2 and ax.get_ylabel() == "reward"
    with pytest.raises(ValueError, match="band"):
        plot_curves(curves, band="iqr")
    plt.close("all")


def test_plot_testbed_shows_percent_optimal_with_bands():
    testbed = BanditTestbed(n_runs=50, n_arms=5, seed=0)
    result = run_testbed(EpsilonGreedy(5, 0.1, n_runs=50, seed=0), testbed, steps=20, seed=0)
    ax = plot_testbed({"eps 0.1": result}, "optimal")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 100 * result.optimal_rate)
    assert ax.get_ylabel() == "% optimal action"
    with pytest.raises(ValueError, match="metric"):
        plot_testbed({"x": result}, "speed")
    plt.close("all")


def test_plot_policy_returns_one_bar_per_policy():
    ax = plot_policy_returns({"random": [1.0, 2.0, 3.0], "optimal": [5.0, 6.0, 7.0]})
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [2.0, 6.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["random", "optimal"]
    plt.close("all")


def test_plot_testbed_smooths_with_a_moving_average():
    testbed = BanditTestbed(n_runs=20, n_arms=5, seed=0)
    result = run_testbed(EpsilonGreedy(5, 0.1, n_runs=20, seed=0), testbed, steps=30, seed=0)
    ax = plot_testbed({"eps 0.1": result}, "reward", smooth=10)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), np.arange(10, 31))
    np.testing.assert_allclose(line.get_ydata()[0], result.mean_reward[:10].mean())
    assert "10-step moving average" in ax.get_ylabel()
    with pytest.raises(ValueError, match="smooth"):
        plot_testbed({"eps 0.1": result}, "reward", smooth=0)
    plt.close("all")


def _explorer_for_static_views():
    def draw(epsilon, audience):
        figure, ax = plt.subplots(figsize=(6, 3))
        ax.plot([0, 1], [0, epsilon], label="curve")
        figure.legend(loc="lower center")  # under the axes: the note must not cover it
        figure.subplots_adjust(bottom=0.3)
        return figure

    controls = {"epsilon": widgets.FloatSlider(value=0.25, min=0.0, max=1.0, step=0.05, description="epsilon"),
                "audience": widgets.Dropdown(options=[("low CTR", 0), ("high CTR", 1)], value=1)}
    return explorer(draw, controls), controls, draw


def test_explorer_displays_as_a_widget_with_a_still_picture_for_static_views():
    import base64
    import io

    import matplotlib.image as mpimg

    box, controls, draw = _explorer_for_static_views()
    bundle = box._repr_mimebundle_()
    # JupyterLab renders the widget view (its renderer outranks image/png); GitHub and the
    # website cannot, and show the PNG; a text-only view shows the note.
    assert set(bundle) == {"application/vnd.jupyter.widget-view+json", "text/plain", "image/png"}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert bundle["text/plain"] == ("Starting settings: epsilon = 0.25, audience = high CTR\n"
                                    "A still picture: to move the controls, run this notebook in JupyterLab.")
    still = mpimg.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    # The figure alone, drawn the same way, then the note's strip below it: same width, taller.
    alone = io.BytesIO()
    figure = draw(0.25, 1)
    figure.savefig(alone, format="png", bbox_inches="tight", facecolor="white")
    plt.close(figure)
    picture = mpimg.imread(io.BytesIO(alone.getvalue()), format="png")
    assert still.shape[1] == picture.shape[1]
    assert picture.shape[0] + 20 <= still.shape[0] <= picture.shape[0] + 60, (still.shape, picture.shape)
    np.testing.assert_allclose(still[:picture.shape[0], :, :3], picture[..., :3], atol=1 / 255)
    strip = still[picture.shape[0]:, :, :3]
    assert (strip < 0.6).any() and (strip > 0.99).mean() > 0.8, "grey text on white below the figure"


def test_explorer_still_picture_stays_the_first_figure_and_the_explorer_closes_its_figures():
    box, controls, _ = _explorer_for_static_views()
    first = box._repr_mimebundle_()
    before = len(plt.get_fignums())
    controls["epsilon"].value = 0.75  # a live redraw (headless here: no front end)
    again = box._repr_mimebundle_()
    assert again["image/png"] == first["image/png"] and "epsilon = 0.25" in again["text/plain"]
    assert len(plt.get_fignums()) == before
