"""The checks of exercise ``01_bandits``.

The reference answers come from :mod:`mediarl_lessons.agents.bandits`. For the two random
choices, ``epsilon_greedy`` and ``thompson_bernoulli``, the checks compare frequencies with
exact probabilities: the epsilon-greedy distribution written out below, and Thompson
sampling's "probability that each arm's draw is the largest" by exact quadrature.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

import math

import numpy as np

from mediarl_lessons.agents.bandits import gradient_bandit_update, sample_average, softmax, ucb_scores
from mediarl_lessons.grading.cases import draw_case, value_case
from mediarl_lessons.grading.core import Case, Mistake, register

EXERCISE = "01_bandits"


# =============================================================================================
# epsilon_greedy
# =============================================================================================
def epsilon_greedy_probabilities(q_values: np.ndarray, epsilon: float) -> np.ndarray:
    """The exact distribution of the contract's choice: ``epsilon / K`` everywhere, plus the
    greedy mass ``1 - epsilon`` split evenly over the arms with the largest value."""
    q_values = np.asarray(q_values, dtype=np.float64)
    best = q_values == q_values.max()
    return epsilon / q_values.size + (1.0 - epsilon) * best / best.sum()


def _wrong_epsilon_greedy_distributions(q_values: np.ndarray, epsilon: float) -> list[tuple[str, np.ndarray]]:
    """Exact distributions of DELIBERATELY WRONG ways of choosing, each with the hint it earns."""
    q_values = np.asarray(q_values, dtype=np.float64)
    k = q_values.size
    best = q_values == q_values.max()
    first_best = np.zeros(k)
    first_best[np.argmax(q_values)] = 1.0
    last_best = np.zeros(k)
    last_best[k - 1 - np.argmax(q_values[::-1])] = 1.0
    uniform = np.full(k, 1.0 / k)
    variants = [
        ("ties always broken towards index 0 (np.argmax)? Break ties uniformly at random among the best arms",
         epsilon * uniform + (1 - epsilon) * first_best),
        ("ties always broken towards the last index? Break ties uniformly at random among the best arms",
         epsilon * uniform + (1 - epsilon) * last_best),
        ("epsilon used the wrong way round? Explore (uniformly random arm) with probability epsilon, "
         "exploit with 1 - epsilon", (1 - epsilon) * uniform + epsilon * best / best.sum()),
        ("never explores? With probability epsilon choose an arm uniformly at random", best / best.sum()),
        ("explores with probability 1? Only a fraction epsilon of the choices is random", uniform),
    ]
    if not best.all():
        variants.append(
            ("exploring only among the non-greedy arms? Explore uniformly over ALL arms, the greedy one included",
             epsilon * (~best) / (~best).sum() + (1 - epsilon) * best / best.sum()))
    return variants


@register(EXERCISE, "epsilon_greedy")
def epsilon_greedy_cases(rng: np.random.Generator) -> list[Case]:
    def draw(q_values: np.ndarray, epsilon: float):
        return lambda func, generator: func(q_values.copy(), epsilon, generator)

    def case(name: str, q_values: list[float] | np.ndarray, epsilon: float, n_draws: int = 4000) -> Case:
        q_values = np.asarray(q_values, dtype=np.float64)
        return draw_case(name, draw(q_values, epsilon), epsilon_greedy_probabilities(q_values, epsilon),
                         seed=int(rng.integers(2**32)), n_draws=n_draws,
                         wrong_probabilities=_wrong_epsilon_greedy_distributions(q_values, epsilon),
                         fallback_hint="with probability epsilon an arm uniformly from all K arms; otherwise a "
                                       "best arm, ties broken uniformly at random")

    k = int(rng.integers(4, 9))
    random_q = np.round(rng.normal(size=k), 2)
    tied = rng.choice(k, size=2, replace=False)
    random_q[tied] = random_q.max() + 0.5  # two best arms, at random places
    return [
        case("greedy (epsilon=0), one best arm", [0.2, 0.9, 0.1, 0.5], 0.0, n_draws=400),
        case("greedy (epsilon=0), two tied best arms", [0.5, 0.1, 0.5, 0.3], 0.0),
        case("all arms equal, epsilon=0", [1.0, 1.0, 1.0], 0.0),
        case("one best arm, epsilon=0.3", [1.0, 3.0, 2.0, 0.0], 0.3),
        case("epsilon=1 (always explore)", [0.0, 2.0, 1.0, 0.5, -1.0], 1.0),
        case(f"random: {k} arms, a tie, epsilon={0.25}", random_q, 0.25),
    ]


# =============================================================================================
# sample_average
# =============================================================================================
def wrong_sample_average_n_plus_one(q: float, n: int, reward: float) -> float:
    """DELIBERATELY WRONG: divides by n + 1 (n already counts this reward)."""
    return q + (reward - q) / (n + 1)


def wrong_sample_average_n_minus_one(q: float, n: int, reward: float) -> float:
    """DELIBERATELY WRONG: divides by n - 1."""
    return q + (reward - q) / (n - 1)


def wrong_sample_average_increment_only(q: float, n: int, reward: float) -> float:
    """DELIBERATELY WRONG: returns the step, not the new estimate."""
    return (reward - q) / n


def wrong_sample_average_halfway(q: float, n: int, reward: float) -> float:
    """DELIBERATELY WRONG: averages the old estimate and the reward."""
    return (q + reward) / 2


def _running_mean(func, rewards: tuple[float, ...]) -> float:
    q = 0.0
    for n, reward in enumerate(rewards, start=1):
        q = func(q, n, reward)
    return q


SAMPLE_AVERAGE_MISTAKES = [
    ("off by one in n? n already counts this reward: divide by n, not n + 1", wrong_sample_average_n_plus_one),
    ("off by one in n? n already counts this reward: divide by n, not n - 1", wrong_sample_average_n_minus_one),
    ("returned only the step (reward - q) / n? Return the new estimate q + (reward - q) / n",
     wrong_sample_average_increment_only),
    ("averaged q and the reward? Every reward so far must weigh the same: q + (reward - q) / n",
     wrong_sample_average_halfway),
]


@register(EXERCISE, "sample_average",
          error_hint=lambda error: "off by one in n? n >= 1 already counts this reward (no division by n - 1)"
          if isinstance(error, ZeroDivisionError) else "")
def sample_average_cases(rng: np.random.Generator) -> list[Case]:
    q, n, reward = float(np.round(rng.normal(), 3)), int(rng.integers(2, 50)), float(np.round(rng.normal(1.0, 2.0), 3))
    rewards = tuple(float(r) for r in np.round(rng.uniform(0, 10, size=int(rng.integers(5, 12))), 2))
    fallback = "the new estimate is q + (reward - q) / n"
    return [
        value_case("first reward (n=1) replaces the estimate", (0.0, 1, 5.0), sample_average,
                   wrong_variants=SAMPLE_AVERAGE_MISTAKES, fallback_hint=fallback),
        value_case("q=2, n=4, reward=6", (2.0, 4, 6.0), sample_average,
                   wrong_variants=SAMPLE_AVERAGE_MISTAKES, fallback_hint=fallback),
        value_case(f"random: q={q}, n={n}, reward={reward}", (q, n, reward), sample_average,
                   wrong_variants=SAMPLE_AVERAGE_MISTAKES, fallback_hint=fallback),
        _running_mean_case(rewards),
    ]


def _running_mean_case(rewards: tuple[float, ...]) -> Case:
    """Feed a whole sequence through the learner's rule: the result must be the plain mean."""
    def observe(func) -> float:
        return float(_running_mean(func, rewards))

    expected = float(np.mean(rewards))
    mistakes = []
    for hint, wrong in SAMPLE_AVERAGE_MISTAKES:
        try:
            with np.errstate(all="ignore"):
                wrong_value = observe(wrong)
        except ZeroDivisionError:
            continue
        mistakes.append(Mistake(hint, lambda got, wrong_value=wrong_value:
                                math.isclose(got, wrong_value, rel_tol=1e-7)))
    return Case(f"running estimate over {len(rewards)} random rewards = their mean", observe, expected,
                lambda got, exp: math.isclose(got, exp, rel_tol=1e-7, abs_tol=1e-9), mistakes,
                f"{expected:.6g}", lambda got: f"{got:.6g}", "the new estimate is q + (reward - q) / n")


# =============================================================================================
# ucb_scores
# =============================================================================================
def wrong_ucb_log_t_plus_one(q_values, counts, t, c):
    """DELIBERATELY WRONG: ln(t + 1) instead of ln(t)."""
    return ucb_scores(q_values, counts, t + 1, c)


def wrong_ucb_log10(q_values, counts, t, c):
    """DELIBERATELY WRONG: log base 10."""
    return ucb_scores(q_values, counts, math.e ** math.log10(t), c)


def wrong_ucb_no_sqrt(q_values, counts, t, c):
    """DELIBERATELY WRONG: forgets the square root."""
    counts = np.asarray(counts, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, np.asarray(q_values) + c * math.log(t) / counts, np.inf)


def wrong_ucb_c_inside_sqrt(q_values, counts, t, c):
    """DELIBERATELY WRONG: c under the square root."""
    return ucb_scores(q_values, counts, t, math.sqrt(c))


def wrong_ucb_counts_plus_one(q_values, counts, t, c):
    """DELIBERATELY WRONG: divides by N + 1 (and so never scores +inf)."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.asarray(q_values) + c * np.sqrt(math.log(t) / (counts + 1))


def _untried_not_infinite(q_values, counts) -> Mistake:
    untried = np.asarray(counts) == 0

    def matches(got) -> bool:
        got = np.asarray(got, dtype=np.float64)
        return bool(untried.any() and got.shape == untried.shape and not np.all(got[untried] == np.inf))

    return Mistake("an arm with count 0 must score +inf (so every arm is tried once); "
                   "compute the bonus only where counts > 0", matches)


UCB_MISTAKES = [
    ("ln(t + 1) instead of ln(t)? t >= 1 is already the current step", wrong_ucb_log_t_plus_one),
    ("log base 10? Use the natural logarithm (math.log / np.log)", wrong_ucb_log10),
    ("forgot the square root? The bonus is c * sqrt(ln t / N)", wrong_ucb_no_sqrt),
    ("c inside the square root? The bonus is c * sqrt(ln t / N)", wrong_ucb_c_inside_sqrt),
    ("divided by N + 1? Divide by the count N (and give count-0 arms +inf)", wrong_ucb_counts_plus_one),
]


@register(EXERCISE, "ucb_scores",
          error_hint=lambda error: "an arm with count 0 must score +inf, not divide by 0"
          if isinstance(error, (ZeroDivisionError, FloatingPointError)) else "")
def ucb_scores_cases(rng: np.random.Generator) -> list[Case]:
    k = int(rng.integers(4, 9))
    q_values = np.round(rng.uniform(0, 1, size=k), 3)
    counts = rng.integers(1, 30, size=k)
    t = int(counts.sum()) + 1
    counts_with_zero = counts.copy()
    counts_with_zero[rng.integers(k)] = 0
    fallback = "score = q + c * sqrt(ln(t) / counts), +inf where counts == 0"

    def case(name: str, q, n, t, c) -> Case:
        q, n = np.asarray(q, dtype=np.float64), np.asarray(n)
        return value_case(name, (q, n, t, c), ucb_scores, wrong_variants=UCB_MISTAKES,
                          predicates=[_untried_not_infinite(q, n)], fallback_hint=fallback)

    return [
        case("3 arms, t=8, c=2", [0.5, 0.2, 0.8], [2, 1, 4], 8, 2.0),
        case("an untried arm scores +inf", [0.5, 0.2, 0.8], [3, 0, 4], 8, 1.0),
        case("t=1: ln 1 = 0, no bonus", [0.3, 0.6], [1, 1], 1, 2.0),
        case("nothing tried yet (t=1): all +inf", [0.0, 0.0, 0.0], [0, 0, 0], 1, 2.0),
        case("c=0: plain estimates", [0.1, 0.4, 0.2], [5, 2, 3], 11, 0.0),
        case(f"random: {k} arms, t={t}, c=1.5", q_values, counts, t, 1.5),
        case(f"random: {k} arms, one untried, c=0.7", q_values, counts_with_zero, t, 0.7),
    ]


# =============================================================================================
# thompson_bernoulli
# =============================================================================================
#: Gauss-Legendre nodes on [0, 1]: exact for polynomials of degree < 2 * 200.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2


def _beta_pdf_cdf(a: int, b: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Density and distribution function of Beta(a, b) for integers a, b >= 1, exactly.

    For integer parameters, ``P(theta <= x) = P(Binomial(a + b - 1, x) >= a)``.
    """
    n = a + b - 1
    pdf = x ** (a - 1) * (1 - x) ** (b - 1) / (math.gamma(a) * math.gamma(b) / math.gamma(a + b))
    cdf = sum(math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(a, n + 1))
    return pdf, cdf


def argmax_probabilities(alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """P(arm a's draw is the largest) for independent ``Beta(alphas[a], betas[a])`` draws (integers).

    ``P(a) = integral of pdf_a(x) * prod_{b != a} CDF_b(x) dx`` over [0, 1]; the integrand is
    a polynomial (integer parameters), so Gauss-Legendre quadrature with enough nodes is
    exact up to rounding.
    """
    degree = int(np.sum(np.asarray(alphas) + np.asarray(betas) - 1))
    if degree >= 2 * len(_NODES):
        raise ValueError(f"counts too large for exact quadrature (degree {degree}); keep check cases small")
    densities, cdfs = zip(*(_beta_pdf_cdf(int(a), int(b), _NODES) for a, b in zip(alphas, betas)))
    probabilities = np.array([
        np.sum(_WEIGHTS * densities[arm] * np.prod([cdfs[b] for b in range(len(alphas)) if b != arm], axis=0))
        for arm in range(len(alphas))
    ])
    return probabilities / probabilities.sum()  # remove the last rounding error


def _point_mass(index: int, k: int) -> np.ndarray:
    mass = np.zeros(k)
    mass[index] = 1.0
    return mass


@register(EXERCISE, "thompson_bernoulli",
          error_hint=lambda error: "Beta's parameters must be > 0: draw from Beta(1 + successes, 1 + failures)"
          if isinstance(error, ValueError) else "")
def thompson_bernoulli_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, successes, failures) -> Case:
        s, f = np.asarray(successes, dtype=np.int64), np.asarray(failures, dtype=np.int64)
        k = len(s)
        wrong = [
            # (The argmin of Beta(1 + s, 1 + f) draws has exactly the law of the argmax of
            # Beta(1 + f, 1 + s) draws, since 1 - theta ~ Beta(1 + f, 1 + s): one hint for both.)
            ("successes and failures swapped, or the smallest draw taken (the same law)? Draw theta_a ~ "
             "Beta(1 + successes, 1 + failures) and return the argmax", argmax_probabilities(1 + f, 1 + s)),
            ("used the number of trials as Beta's second parameter? It is Beta(1 + successes, 1 + failures)",
             argmax_probabilities(1 + s, 1 + s + f)),
            ("greedy on the posterior mean? Thompson sampling draws one theta per arm and takes the largest draw",
             _point_mass(int(np.argmax((1 + s) / (2 + s + f))), k)),
        ]
        if (s > 0).all() and (f > 0).all():
            wrong.append(("forgot the uniform prior? Draw from Beta(1 + successes, 1 + failures), not Beta(s, f)",
                          argmax_probabilities(s, f)))
        return draw_case(name, lambda func, generator: func(s.copy(), f.copy(), generator),
                         argmax_probabilities(1 + s, 1 + f),
                         seed=int(rng.integers(2**32)), wrong_probabilities=wrong,
                         fallback_hint="draw theta_a ~ Beta(1 + s_a, 1 + f_a) for every arm with rng.beta, "
                                       "return the argmax")

    k = int(rng.integers(3, 6))
    trials = rng.integers(2, 12, size=k)
    successes = rng.binomial(trials, rng.uniform(0.2, 0.8, size=k))
    return [
        case("no data yet: every arm equally likely", [0, 0, 0], [0, 0, 0]),
        case("3 arms with some data", [3, 1, 5], [1, 2, 5]),
        case("a clear winner", [2, 30, 1], [20, 2, 20]),
        case(f"random: {k} arms", successes, trials - successes),
    ]


# =============================================================================================
# gradient_bandit_update
# =============================================================================================
def wrong_gradient_only_chosen(preferences, action, reward, baseline, alpha):
    """DELIBERATELY WRONG: updates only the chosen arm's preference."""
    new = np.array(preferences, dtype=np.float64)
    new[action] += alpha * (reward - baseline) * (1 - softmax(preferences)[action])
    return new


def wrong_gradient_others_plus(preferences, action, reward, baseline, alpha):
    """DELIBERATELY WRONG: the other arms move the same way as the chosen one."""
    probabilities = softmax(preferences)
    new = np.asarray(preferences, dtype=np.float64) + alpha * (reward - baseline) * probabilities
    new[action] = preferences[action] + alpha * (reward - baseline) * (1 - probabilities[action])
    return new


def wrong_gradient_no_one_minus(preferences, action, reward, baseline, alpha):
    """DELIBERATELY WRONG: the chosen arm moves by alpha (R - baseline) pi(A) instead of (1 - pi(A))."""
    probabilities = softmax(preferences)
    new = np.asarray(preferences, dtype=np.float64) - alpha * (reward - baseline) * probabilities
    new[action] = preferences[action] + alpha * (reward - baseline) * probabilities[action]
    return new


def wrong_gradient_no_baseline(preferences, action, reward, baseline, alpha):
    """DELIBERATELY WRONG: ignores the baseline."""
    return gradient_bandit_update(preferences, action, reward, 0.0, alpha)


def wrong_gradient_no_alpha(preferences, action, reward, baseline, alpha):
    """DELIBERATELY WRONG: forgets the step size."""
    return gradient_bandit_update(preferences, action, reward, baseline, 1.0)


GRADIENT_MISTAKES = [
    ("updated only the chosen arm's preference? Every other arm moves too: H(a) -= alpha (R - baseline) pi(a)",
     wrong_gradient_only_chosen),
    ("the other arms moved the wrong way? H(a) -= alpha (R - baseline) pi(a) for a != A", wrong_gradient_others_plus),
    ("the chosen arm moves by alpha (R - baseline) (1 - pi(A)), not pi(A)", wrong_gradient_no_one_minus),
    ("forgot the baseline? Use (reward - baseline)", wrong_gradient_no_baseline),
    ("forgot the step size alpha?", wrong_gradient_no_alpha),
]


def _overflowed() -> Mistake:
    def matches(got) -> bool:
        return got is not None and not np.all(np.isfinite(np.asarray(got, dtype=np.float64)))

    return Mistake("softmax overflow: exp(1000) is inf and inf/inf is nan; subtract the largest preference "
                   "before np.exp", matches)


def _returned_none() -> Mistake:
    return Mistake("returned None: return the new preferences (an array)", lambda got: got is None)


@register(EXERCISE, "gradient_bandit_update")
def gradient_bandit_update_cases(rng: np.random.Generator) -> list[Case]:
    fallback = ("pi = softmax(H); H(A) += alpha (R - baseline) (1 - pi(A)); "
                "H(a) -= alpha (R - baseline) pi(a) for the others")

    def case(name: str, preferences, action: int, reward: float, baseline: float, alpha: float) -> Case:
        return value_case(name, (np.asarray(preferences, dtype=np.float64), action, reward, baseline, alpha),
                          gradient_bandit_update, wrong_variants=GRADIENT_MISTAKES,
                          predicates=[_returned_none(), _overflowed()], fallback_hint=fallback)

    k = int(rng.integers(3, 8))
    preferences = np.round(rng.normal(0, 2, size=k), 3)
    return [
        case("equal preferences, reward above baseline", [0.0, 0.0, 0.0], 1, 1.0, 0.5, 0.1),
        case("reward below baseline", [0.5, -0.2, 1.0, 0.0], 2, 0.0, 0.4, 0.2),
        case("preferences in the thousands (stable softmax)", [1000.0, 1001.0, 999.0], 0, 2.0, 1.0, 0.1),
        case(f"random: {k} arms", preferences, int(rng.integers(k)), float(np.round(rng.normal(1, 1), 3)),
             float(np.round(rng.normal(1, 0.5), 3)), 0.25),
    ]
