"""Downstream utility of synthetic images: does adding them help a skin-lesion classifier?

``slbench utility`` trains the same ResNet-18 on real images only, on real plus synthetic images
of each generator, and on synthetic images only, and scores each on held-out real images with
the ISIC 2018 Task 3 metrics (see :mod:`slbench.utility.scores`).
"""

from slbench.utility.run import run_utility

__all__ = ["run_utility"]
