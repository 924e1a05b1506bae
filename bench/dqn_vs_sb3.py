"""Training speed: the course's ``DQNAgent`` against Stable-Baselines3's ``DQN`` on InterestFeed-v0.

    pip install -e ".[bench]"          # Stable-Baselines3: a benchmark extra, never a course dependency
    python bench/dqn_vs_sb3.py [--steps N] [--rounds R] [--seed S]

Both learn the same problem the same way, so that the number compares implementations, not
algorithms:

- the environment: ``gymnasium.make("mediarl/InterestFeed-v0")``, one environment, no vector wrapper
  beyond what SB3 adds itself;
- the network: an MLP with two hidden layers of 128 ReLU units;
- Adam with learning rate 1e-3, a replay buffer of 50,000 transitions, 1,000 steps of collection
  before learning, a gradient step on a batch of 64 every 2 environment steps (one per round),
  gamma 0.98, the Huber loss, gradient norm clipped to 10, a hard target copy every 100
  environment steps, epsilon from 1 to 0.05 over the first 3,000 steps;
- plain DQN targets on both sides (SB3's ``DQN`` has no Double DQN), so ``DQNAgent`` runs with
  ``double=False``;
- one torch thread for both (``torch.set_num_threads(1)``; the course's default, and what a
  network this small runs fastest with on a laptop CPU).

Each round trains a fresh agent of each for ``--steps`` environment steps, one after the other
in this process, and times the whole ``train``/``learn`` call: collection, acting, learning and
target updates. Before the first round both libraries run a short warm-up (the first Adam step
and torch's first kernels are slow once per process), so neither pays it inside the clock. The
best round of each is compared: on a shared machine, slow rounds measure the neighbours.

Absolute steps per second are noise here; the ratio, measured side by side, is the number. The
last line is ``ratio: X``, the course's steps/s over SB3's (the goal is >= 2).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings

ENV_ID = "mediarl/InterestFeed-v0"

#: The shared recipe, in DQNSettings' words.
SETTINGS = DQNSettings(gamma=0.98, learning_rate=1e-3, batch_size=64, buffer_size=50_000,
                       learning_starts=1_000, train_frequency=2, gradient_steps=1, target_update=100,
                       epsilon_start=1.0, epsilon_end=0.05, epsilon_decay_steps=3_000, double=False,
                       huber=True, max_grad_norm=10.0, hidden_sizes=(128, 128), device="cpu", torch_threads=1)


def course_dqn(steps: int, seed: int) -> float:
    """Seconds for ``DQNAgent.train`` to take ``steps`` environment steps."""
    env = gym.make(ENV_ID)
    agent = DQNAgent.from_env(env, SETTINGS, seed=seed)
    start = time.perf_counter()
    agent.train(env, steps, progress=False)
    return time.perf_counter() - start


def sb3_dqn(steps: int, seed: int) -> float:
    """Seconds for Stable-Baselines3's ``DQN.learn`` to take ``steps`` environment steps."""
    from stable_baselines3 import DQN

    s = SETTINGS
    model = DQN(
        "MlpPolicy", gym.make(ENV_ID),
        learning_rate=s.learning_rate, buffer_size=s.buffer_size, learning_starts=s.learning_starts,
        batch_size=s.batch_size, gamma=s.gamma, train_freq=s.train_frequency, gradient_steps=s.gradient_steps,
        target_update_interval=s.target_update,
        exploration_initial_eps=s.epsilon_start, exploration_final_eps=s.epsilon_end,
        exploration_fraction=min(1.0, s.epsilon_decay_steps / steps),
        max_grad_norm=s.max_grad_norm, policy_kwargs=dict(net_arch=list(s.hidden_sizes)),
        seed=seed, device="cpu", verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6_000, help="environment steps per training run (default 6000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one run each (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        import stable_baselines3
    except ImportError:
        raise SystemExit('Stable-Baselines3 is not installed: pip install -e ".[bench]"') from None

    torch.set_num_threads(1)
    print(f"InterestFeed-v0, {args.steps} environment steps per run, best of {args.rounds} rounds, "
          f"one torch thread; torch {torch.__version__}, stable-baselines3 {stable_baselines3.__version__}")
    # Warm-up: past learning_starts, so the first gradient steps happen outside the clock.
    course_dqn(SETTINGS.learning_starts + 200, args.seed)
    sb3_dqn(SETTINGS.learning_starts + 200, args.seed)

    seconds: dict[str, list[float]] = {"DQNAgent (mediarl_lessons)": [], "DQN (stable-baselines3)": []}
    for round_ in range(args.rounds):
        # Alternate the order, so neither always runs first after the other's garbage.
        runs = [("DQNAgent (mediarl_lessons)", course_dqn), ("DQN (stable-baselines3)", sb3_dqn)]
        for name, run in (runs if round_ % 2 == 0 else runs[::-1]):
            seconds[name].append(run(args.steps, args.seed + round_))
    rates = {name: args.steps / min(times) for name, times in seconds.items()}
    for name, times in seconds.items():
        per_round = ", ".join(f"{args.steps / t:,.0f}" for t in times)
        print(f"{name:>28}: {rates[name]:8,.0f} env steps/s (best; rounds: {per_round})")
    ratio = rates["DQNAgent (mediarl_lessons)"] / rates["DQN (stable-baselines3)"]
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
