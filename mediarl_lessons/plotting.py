"""Plots the lessons share: learning curves with bands over runs, and policy comparisons.

Every function draws on a matplotlib ``Axes`` it is given (or a new one) and returns it, so a
lesson can put several plots side by side and a test can save them as PNGs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from mediarl_lessons._validation import check_int


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.0)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_curves(
    curves: Mapping[str, np.ndarray],
    *,
    ax: Axes | None = None,
    x: np.ndarray | None = None,
    band: str = "sem",
    xlabel: str = "step",
    ylabel: str = "",
    title: str = "",
) -> Axes:
    """One line per label: the mean over runs, with a shaded band.

    ``curves[label]`` has shape ``(runs, steps)``. ``band`` is ``"sem"`` (mean +- 1.96
    standard errors: where the mean curve plausibly lies), ``"std"`` (mean +- one standard
    deviation: how much single runs spread) or ``"none"``.
    """
    if band not in ("sem", "std", "none"):
        raise ValueError(f"band must be one of 'sem', 'std', 'none', got {band!r}")
    ax = _axes(ax)
    for label, values in curves.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        steps = np.arange(1, values.shape[1] + 1) if x is None else np.asarray(x)
        spread = None
        if band != "none" and values.shape[0] > 1:
            spread = values.std(axis=0, ddof=1)
            if band == "sem":
                spread = 1.96 * spread / np.sqrt(values.shape[0])
        _line_with_band(ax, steps, values.mean(axis=0), spread, label)
    _finish(ax, xlabel, ylabel, title, legend=len(curves) > 1)
    return ax


#: What ``plot_testbed`` can show, and how: (TestbedResult mean field, its sem field, scale, y label).
TESTBED_METRICS = {
    "reward": ("mean_reward", "reward_sem", 1.0, "average reward"),
    "optimal": ("optimal_rate", "optimal_sem", 100.0, "% optimal action"),
    "regret": ("cumulative_regret", "cumulative_regret_sem", 1.0, "cumulative regret"),
}


def plot_testbed(
    results: Mapping[str, object],
    metric: str = "reward",
    *,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "steps",
    smooth: int = 1,
) -> Axes:
    """Curves of several :class:`~mediarl_lessons.experiments.TestbedResult` s, one per label.

    ``metric`` is ``"reward"`` (average reward per step), ``"optimal"`` (% of runs that took
    an optimal action) or ``"regret"`` (cumulative regret). The band is the 95% confidence
    band of the average over runs (mean +- 1.96 standard errors). ``smooth`` > 1 plots a
    moving average over that many steps (each point at the window's last step), which makes
    long, noisy curves readable.
    """
    if metric not in TESTBED_METRICS:
        raise ValueError(f"metric must be one of {sorted(TESTBED_METRICS)}, got {metric!r}")
    smooth = check_int("smooth", smooth, low=1)
    mean_field, sem_field, scale, ylabel = TESTBED_METRICS[metric]
    ax = _axes(ax)
    window = np.ones(smooth) / smooth
    for label, result in results.items():
        mean = np.convolve(scale * getattr(result, mean_field), window, mode="valid")
        half_width = np.convolve(1.96 * scale * getattr(result, sem_field), window, mode="valid")
        _line_with_band(ax, np.arange(smooth, smooth + len(mean)), mean, half_width, label)
    if smooth > 1:
        ylabel = f"{ylabel} ({smooth}-step moving average)"
    _finish(ax, xlabel, ylabel, title, legend=len(results) > 1)
    return ax


def _line_with_band(ax: Axes, x: np.ndarray, mean: np.ndarray, half_width: np.ndarray | None,
                    label: str) -> None:
    (line,) = ax.plot(x, mean, label=label, linewidth=1.6)
    if half_width is not None:
        ax.fill_between(x, mean - half_width, mean + half_width, color=line.get_color(), alpha=0.2,
                        linewidth=0)


def _finish(ax: Axes, xlabel: str, ylabel: str, title: str, *, legend: bool) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(frameon=False)
    ax.grid(alpha=0.3)


def plot_policy_returns(
    returns: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    ylabel: str = "mean return per episode",
    title: str = "",
) -> Axes:
    """Bars of each policy's mean episode return with 95% confidence intervals."""
    ax = _axes(ax, figsize=(max(5.0, 0.9 * len(returns) + 2.0), 4.0))
    labels = list(returns)
    means = np.array([np.mean(returns[k]) for k in labels])
    sems = np.array([np.std(returns[k], ddof=1) / np.sqrt(len(returns[k])) if len(returns[k]) > 1
                     else 0.0 for k in labels])
    positions = np.arange(len(labels))
    ax.bar(positions, means, yerr=1.96 * sems, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_xticks(positions, labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_frames(
    frames: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    figsize: tuple[float, float] | None = None,
) -> np.ndarray:
    """A row of an environment's pictures (``render_mode="rgb_array"`` frames), axes off.

    ``frames`` are ``(H, W, 3)`` ``uint8`` arrays, shown left to right, each with its title
    from ``titles`` (as many as frames) if given. The figure is 9 inches wide by default and
    just tall enough for the frames. Returns the array of ``Axes``, one per frame.
    """
    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise ValueError("plot_frames needs at least one frame")
    for index, frame in enumerate(frames):
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frames[{index}] must be an (H, W, 3) uint8 picture, got shape {frame.shape} "
                             f"and dtype {frame.dtype}")
    if titles is not None and len(titles) != len(frames):
        raise ValueError(f"got {len(titles)} titles for {len(frames)} frames")
    if figsize is None:
        height, width = frames[0].shape[:2]
        figsize = (9.0, 9.0 / len(frames) * height / width + (0.3 if titles else 0.0))
    _, axes = plt.subplots(1, len(frames), figsize=figsize, layout="constrained", squeeze=False)
    for index, (ax, frame) in enumerate(zip(axes[0], frames)):
        ax.imshow(frame)
        ax.set_axis_off()
        if titles:
            ax.set_title(titles[index], fontsize=9)
    return axes[0]
