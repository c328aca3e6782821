"""The seeds the commands take: a seed out of range is a usage error (exit 2) before anything runs."""

from __future__ import annotations

from slbench.errors import SlbenchError

SEED_MAX = 2**63 - 1  # training, generation and data seeds feed torch's 64-bit generators
# An evaluation seed also seeds numpy's RandomState, which takes 32 bits: KID's subsets are drawn
# with it, as torch-fidelity draws them, and PRD's k-means starts from it.
EVALUATION_SEED_MAX = 2**32 - 1


def check_evaluation_seed(seed: object) -> int:
    """``seed`` if it is a whole number an evaluation can take, else an error saying the range."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= EVALUATION_SEED_MAX:
        raise SlbenchError(f"--seed must be a whole number from 0 to {EVALUATION_SEED_MAX} (KID's subsets are "
                           f"drawn by numpy's 32-bit RandomState), not {seed!r}")
    return seed
