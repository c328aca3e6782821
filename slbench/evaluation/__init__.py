"""``slbench run``: evaluate trained generators per lesion class and write a results folder.

:func:`run_evaluation` is the entry point; :mod:`~slbench.evaluation.plan` validates a run
before it starts, :mod:`~slbench.evaluation.pair` evaluates one (model, category) pair (shared
with ``slbench check``), :mod:`~slbench.evaluation.samples`, :mod:`~slbench.evaluation.grids`
and :mod:`~slbench.evaluation.provenance` produce the images and records a results folder holds.
"""

from slbench.evaluation.runner import run_evaluation

__all__ = ["run_evaluation"]
