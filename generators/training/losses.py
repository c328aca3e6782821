"""GAN losses of the three models, as pure functions of discriminator scores.

* Least squares (Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017) with
  the a=-1, b=1, c=0 coding that Qin et al. (2020) train SL-StyleGAN with.
* Non-saturating logistic (Goodfellow et al. 2014), the loss of the official StyleGAN release.
* Binary cross-entropy on logits (Radford et al. 2016, DCGAN).
* R1 (Mescheder et al., "Which Training Methods for GANs do actually Converge?", ICML 2018):
  the squared norm of the discriminator's gradient at real images, ``gamma / 2 * ||grad||^2``
  averaged over the batch. SL-StyleGAN's "5 * sum of squared gradients" is gamma = 10.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def least_squares_d(real_scores: torch.Tensor, fake_scores: torch.Tensor, *, real_target: float,
                    fake_target: float) -> torch.Tensor:
    """Discriminator: mean squared distance of real scores to b and fake scores to a."""
    return (real_scores - real_target).square().mean() + (fake_scores - fake_target).square().mean()


def least_squares_g(fake_scores: torch.Tensor, *, generator_target: float) -> torch.Tensor:
    """Generator: mean squared distance of fake scores to c."""
    return (fake_scores - generator_target).square().mean()


def logistic_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Discriminator: softplus(D(fake)) + softplus(-D(real)), batch means."""
    return F.softplus(fake_scores).mean() + F.softplus(-real_scores).mean()


def logistic_nonsaturating_g(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator: softplus(-D(G(z))), the non-saturating form."""
    return F.softplus(-fake_scores).mean()


def bce_d(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator: BCE of real logits against 1 plus BCE of fake logits against 0."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def bce_g(fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator: BCE of fake logits against 1 (the non-saturating trick of the DCGAN code)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def r1_penalty(real_scores: torch.Tensor, real_images: torch.Tensor, *, gamma: float) -> torch.Tensor:
    """``gamma / 2`` times the batch mean of the squared input-gradient norm of D at real images.

    ``real_images`` must have ``requires_grad`` set before the scores were computed; the graph of
    the gradient is kept so the penalty can be minimised.
    """
    (grad,) = torch.autograd.grad(real_scores.float().sum(), real_images, create_graph=True)
    return 0.5 * gamma * grad.float().square().flatten(1).sum(1).mean()
