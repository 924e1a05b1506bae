"""Drawing one of ``K`` outcomes with given probabilities: the package's one categorical sampler.

Inverse-CDF sampling: lay the probabilities end to end on ``[0, 1)``, so that outcome ``k``
owns the slice ``[cdf[k - 1], cdf[k])`` of length ``p[k]``, and see where a uniform random
number ``u`` falls::

    p   = [0.5, 0.3, 0.2]
    cdf = [0.5, 0.8, 1.0]          # cumulative_probabilities(p)
    inverse_cdf(cdf, 0.65) == 1    # 0.5 <= 0.65 < 0.8

Every random choice among a few outcomes in the package goes through :func:`inverse_cdf`:
a gradient bandit's arm (``GradientBandit``), a logged article (``offline.collect_logs``), a
market price and a click-through level (``AdPacing-v0``), a viewer's mood at the start
(``SessionRetention-v0``), a user's segment and time of day (``NewsFeed-v0``). The caller
draws the uniform numbers from its own generator, one at a time or a block at once, so each
keeps its own seeded stream of random numbers.

:func:`softmax` turns preferences into such probabilities: a gradient bandit's policy
(lesson 01), the logging policy of lesson 02's logs, a NewsFeed user's interests.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

__all__ = ["cumulative_probabilities", "inverse_cdf", "softmax"]


def cumulative_probabilities(probabilities: np.ndarray | list[float] | tuple[float, ...]) -> list[float]:
    """The running sums of ``probabilities``, with the last one set to exactly 1.

    Rounding can leave the sum of the probabilities at 0.9999999999999999; a uniform number
    above it would then fall past the last outcome. With the last entry exactly 1, every
    ``u`` in ``[0, 1)`` falls inside. (A Python list: see :func:`inverse_cdf`.)
    """
    cdf = np.cumsum(np.asarray(probabilities, dtype=np.float64)).tolist()
    cdf[-1] = 1.0
    return cdf


def inverse_cdf(cdf: np.ndarray | list[float], u: np.ndarray | float) -> np.ndarray | int:
    """The outcome whose slice of the cumulative distribution holds the uniform number ``u``.

    ``cdf`` holds the cumulative probabilities ``p[0], p[0] + p[1], ..., total``: from
    :func:`cumulative_probabilities`, or ``np.cumsum(p)``, whose total may miss 1 by a
    rounding error. ``u`` is uniform on ``[0, 1)``, and ``u * total`` is looked up, so the
    answer is the number of entries ``<= u * total``: outcome ``k`` with probability ``p[k]``,
    always in ``0 .. K - 1``.

    The shapes:

    - ``cdf`` a list and ``u`` a number: an ``int``, found by bisection (``bisect``), the fastest way
      for one draw among a few outcomes (an environment's step);
    - ``cdf`` ``(K,)`` and ``u`` of any shape: one outcome per number, an array of ``u``'s shape;
    - ``cdf`` ``(n, K)``, one distribution per row, and ``u`` ``(n,)``: one outcome per row.
    """
    if type(cdf) is list:
        return bisect_right(cdf, u * cdf[-1])
    cdf = np.asarray(cdf)
    if cdf.ndim == 1:
        return np.searchsorted(cdf, u * cdf[-1], side="right")
    scaled = np.asarray(u) * cdf[..., -1]
    return (cdf <= scaled[..., np.newaxis]).sum(axis=-1)


def softmax(preferences: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Action probabilities from preferences (Sutton & Barto, eq. 2.11), without overflow.

    .. math:: \pi(a) = \frac{e^{H(a)}}{\sum_b e^{H(b)}} = \frac{e^{H(a) - m}}{\sum_b e^{H(b) - m}},
        \quad m = \max_b H(b).

    Subtracting the largest preference changes nothing mathematically, but keeps every
    exponent <= 0: ``exp(1000)`` overflows to ``inf`` (and ``inf / inf`` is ``nan``), while
    ``exp(0) = 1`` and ``exp(-1000) = 0`` are harmless.
    """
    preferences = np.asarray(preferences, dtype=np.float64)
    exponentials = np.exp(preferences - preferences.max(axis=axis, keepdims=True))
    return exponentials / exponentials.sum(axis=axis, keepdims=True)
