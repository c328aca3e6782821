"""What differs between the three models' training steps: losses, forward options, lr, reals.

Each objective turns discriminator scores into the two losses of its paper and says which
keyword options the networks get in training. The training loop
(:mod:`generators.training.loop`) owns everything they share: one discriminator step, then one
generator step, with the R1 penalty where ``r1_gamma`` is set.

* ``sl-stylegan`` (Qin et al. 2020): least squares with a=-1, b=1, c=0, R1 weight 5 (gamma 10),
  learning rate lr / (1 + decay * step) as Keras' ``decay`` applies it.
* ``stylegan`` (Karras et al. 2019): non-saturating logistic, R1 gamma 10, style mixing 0.9,
  the tracked average ``w`` updated in training, progressive growing with fade-in, the official
  1-GPU minibatch and learning rate per resolution and Adam moments reset when growing starts or
  ends a fade-in. Its minibatch changes with the stage, so the images seen after a number of
  steps come from walking the schedule (:meth:`Objective.images_after`).
* ``dcgan`` (Radford et al. 2016): binary cross-entropy on logits.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from generators.training import losses
from generators.training.config import DCGANConfig, SLStyleGANConfig, StyleGANConfig, TrainConfig
from generators.training.schedule import GrowthPhase, growth_phase, images_after, official_minibatch, steps_to_reach

OFFICIAL_LRATE_DICT = {128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003}
"""StyleGAN's ``sched.G_lrate_dict`` (``D_lrate_dict`` is a copy) in the release's ``train.py``:
the learning rate by resolution trained, the base 1e-3 below 128 px. (``{1024: 0.0015}`` in the
same file belongs to the Progressive GAN presets, not to StyleGAN.)"""


class Objective:
    """Defaults shared by the objectives: constant lr, full-resolution networks, no R1."""

    r1_gamma: float = 0.0

    def __init__(self, config: TrainConfig, resolution: int) -> None:
        self.config = config
        self.resolution = resolution

    def learning_rate(self, step: int, phase: GrowthPhase) -> float:
        return self.config.lr

    def resets_optimizers(self, previous: GrowthPhase, current: GrowthPhase) -> bool:
        """Whether the optimisers' moments start afresh between two consecutive steps' phases."""
        return False

    def phase(self, images_seen: int) -> GrowthPhase:
        """The resolution trained at after ``images_seen`` images (always full without growing)."""
        return GrowthPhase(stage=self.resolution, alpha=1.0)

    def batch_size(self, phase: GrowthPhase) -> int:
        """Images per step (summed over processes) at this phase: the config's ``batch_size``."""
        return self.config.batch_size

    def batch_sizes(self) -> set[int]:
        """Every minibatch the run can use."""
        return {self.config.batch_size}

    def images_after(self, steps: int) -> int:
        """Images seen after ``steps`` steps."""
        return steps * self.config.batch_size

    def steps_to_reach(self, images: float) -> int:
        """The fewest steps that see at least ``images`` images."""
        return max(1, math.ceil(images / self.config.batch_size))

    def generator_options(self, phase: GrowthPhase) -> dict[str, Any]:
        """Keyword options of the generator's forward in training."""
        return {}

    def discriminator_options(self, phase: GrowthPhase) -> dict[str, Any]:
        """Keyword options of the discriminator's forward in training."""
        return {}

    def sampling_options(self, phase: GrowthPhase) -> dict[str, Any]:
        """Keyword options of ``sample`` for the snapshot grid at this phase."""
        return {}

    def prepare_reals(self, real: torch.Tensor, phase: GrowthPhase) -> torch.Tensor:
        """Real images as the discriminator sees them at this phase."""
        return real

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LeastSquaresObjective(Objective):
    """SL-StyleGAN: LSGAN (a, b, c) plus R1, Keras-style learning-rate decay."""

    config: SLStyleGANConfig

    def __init__(self, config: SLStyleGANConfig, resolution: int) -> None:
        super().__init__(config, resolution)
        self.r1_gamma = 2.0 * config.r1_weight

    def learning_rate(self, step: int, phase: GrowthPhase) -> float:
        return self.config.lr / (1.0 + self.config.lr_decay * step)

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.least_squares_d(real_scores, fake_scores, real_target=self.config.real_target,
                                      fake_target=self.config.fake_target)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.least_squares_g(fake_scores, generator_target=self.config.generator_target)


class LogisticObjective(Objective):
    """StyleGAN: non-saturating logistic plus R1, style mixing, progressive growing."""

    config: StyleGANConfig

    def __init__(self, config: StyleGANConfig, resolution: int) -> None:
        super().__init__(config, resolution)
        self.r1_gamma = config.r1_gamma

    def learning_rate(self, step: int, phase: GrowthPhase) -> float:
        """The official ``G_lrate_dict`` (= ``D_lrate_dict``) at the stage trained, else ``lr``."""
        if self.config.official_lr:
            return OFFICIAL_LRATE_DICT.get(phase.stage, self.config.lr)
        return self.config.lr

    def batch_size(self, phase: GrowthPhase) -> int:
        """``batch_size`` when set, else the official 1-GPU ``minibatch_dict`` at the stage trained."""
        if self.config.batch_size is not None:
            return self.config.batch_size
        return official_minibatch(phase.stage)

    def stages(self) -> list[int]:
        """The resolutions the run trains at: from the start resolution up when growing, else the last."""
        if not self.config.progressive:
            return [self.resolution]
        return [s for s in (2**k for k in range(2, self.resolution.bit_length()))
                if self.config.start_resolution <= s <= self.resolution]

    def batch_sizes(self) -> set[int]:
        return {self.batch_size(GrowthPhase(stage, 1.0)) for stage in self.stages()}

    def images_after(self, steps: int) -> int:
        return images_after(steps, self._batch_at, self._period)

    def steps_to_reach(self, images: float) -> int:
        return max(1, steps_to_reach(images, self._batch_at, self._period))

    def _batch_at(self, images_seen: int) -> int:
        return self.batch_size(self.phase(images_seen))

    @property
    def _period(self) -> float | None:
        """Images between the points where the minibatch may change (None: it never does)."""
        if self.config.batch_size is not None or not self.config.progressive:
            return None
        return self.config.phase_kimg * 1000.0

    def resets_optimizers(self, previous: GrowthPhase, current: GrowthPhase) -> bool:
        """Official ``reset_opt_for_new_lod``: a new block starts (stage changes) or ends (alpha
        reaches 1) its fade-in, i.e. floor or ceil of the level of detail changes."""
        if not (self.config.progressive and self.config.reset_adam_on_growth):
            return False
        return (previous.stage, previous.alpha < 1.0) != (current.stage, current.alpha < 1.0)

    def phase(self, images_seen: int) -> GrowthPhase:
        if not self.config.progressive:
            return GrowthPhase(stage=self.resolution, alpha=1.0)
        if self.config.phase_kimg is None:
            raise ValueError("phase_kimg must be resolved before training")
        return growth_phase(images_seen / 1000.0, resolution=self.resolution,
                            start_resolution=self.config.start_resolution, phase_kimg=self.config.phase_kimg)

    def generator_options(self, phase: GrowthPhase) -> dict[str, Any]:
        return {"mixing_prob": self.config.mixing_prob, "update_w_avg": True, **self.sampling_options(phase)}

    def discriminator_options(self, phase: GrowthPhase) -> dict[str, Any]:
        return self.sampling_options(phase)

    def sampling_options(self, phase: GrowthPhase) -> dict[str, Any]:
        if not self.config.progressive:
            return {}
        return {"stage": phase.stage, "alpha": phase.alpha}

    def prepare_reals(self, real: torch.Tensor, phase: GrowthPhase) -> torch.Tensor:
        """Reals at the current stage, blended with their half-resolution version during a fade.

        ProGAN's ``process_reals``: box-downsample to the stage; while the newest block fades
        in, mix in the image downsampled once more and nearest-upsampled back, by 1 - alpha.
        """
        if phase.stage < real.shape[-1]:
            real = F.avg_pool2d(real, real.shape[-1] // phase.stage)
        if phase.alpha < 1.0 and phase.stage > self.config.start_resolution:
            coarse = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")
            real = torch.lerp(coarse, real, phase.alpha)
        return real

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.logistic_d(real_scores, fake_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.logistic_nonsaturating_g(fake_scores)


class CrossEntropyObjective(Objective):
    """DCGAN: binary cross-entropy on the discriminator's logits."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.bce_d(real_scores, fake_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return losses.bce_g(fake_scores)


OBJECTIVES: dict[str, type[Objective]] = {
    "sl-stylegan": LeastSquaresObjective,
    "stylegan": LogisticObjective,
    "dcgan": CrossEntropyObjective,
}


def make_objective(model: str, config: TrainConfig, resolution: int) -> Objective:
    """The objective of ``model`` with its training config."""
    expected = {"sl-stylegan": SLStyleGANConfig, "stylegan": StyleGANConfig, "dcgan": DCGANConfig}[model]
    if not isinstance(config, expected):
        raise TypeError(f"{model} trains with a {expected.__name__}, got {type(config).__name__}")
    return OBJECTIVES[model](config, resolution)
