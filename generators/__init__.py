"""The generators slbench evaluates, and their training.

Nothing here imports :mod:`slbench`: the models and their training know no metric.
"""

from generators.checkpoint import load_checkpoint
from generators.registry import MODELS, build_discriminator, build_generator

__all__ = ["MODELS", "build_generator", "build_discriminator", "load_checkpoint"]
