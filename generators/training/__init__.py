"""Training of the registered generators: configs, losses, sampler, moving average, loop.

``plan_run(TrainingRun(...))`` resolves a request into a :class:`RunPlan`; ``train(plan, data)``
runs it on uint8 images and writes checkpoints (:mod:`generators.checkpoint`). Nothing here
knows where the images came from: the caller passes them with their fingerprints.
"""

from generators.training.config import (
    CONFIGS,
    DEFAULT_KIMG,
    DEFAULT_RESOLUTION,
    DCGANConfig,
    SLStyleGANConfig,
    StyleGANConfig,
    TrainConfig,
    config_class,
)
from generators.training.loop import Reporter, SilentReporter, train
from generators.training.run import (
    NonFiniteLossError,
    RunPlan,
    TrainingData,
    TrainingInterrupted,
    TrainingResult,
    TrainingRun,
    TrainingSetupError,
    plan_run,
)

__all__ = [
    "CONFIGS",
    "DEFAULT_KIMG",
    "DEFAULT_RESOLUTION",
    "DCGANConfig",
    "NonFiniteLossError",
    "Reporter",
    "RunPlan",
    "SLStyleGANConfig",
    "SilentReporter",
    "StyleGANConfig",
    "TrainConfig",
    "TrainingData",
    "TrainingInterrupted",
    "TrainingResult",
    "TrainingRun",
    "TrainingSetupError",
    "config_class",
    "plan_run",
    "train",
]
