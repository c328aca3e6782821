"""The lesion classifier used to measure the utility of synthetic images: torchvision's ResNet-18.

ResNet-18 (He et al. 2016, "Deep Residual Learning for Image Recognition") as torchvision
builds it, with its final layer sized to the classes present. It is trained from scratch by
default, so that nothing but the training images decides the result; ``pretrained=True``
starts from torchvision's ImageNet weights (``resnet18-f37072fd.pth``), which must already be
on disk and are read weights-only after their sha256 is checked.

Training: AdamW with a cosine learning-rate decay, plain cross-entropy (no class weights:
balancing the classes is what the synthetic arms do, and weighting the loss would blur that
comparison), and random dihedral transforms (flips and 90-degree turns), since a dermoscopic
image has no canonical orientation. Inputs are scaled to [0, 1] and normalised with the
ImageNet mean and std.

Reproducibility: the initial weights, the batch order and the augmentation all come from the
one ``seed``; on CPU, training runs under ``torch.use_deterministic_algorithms`` and gives the
same weights bit for bit. On CUDA it runs under automatic mixed precision (bfloat16 where the
GPU supports it, else float16 with loss scaling) in channels-last layout.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torchvision.models import resnet18

from generators.safe_io import UnsafeWeightsError, VerifiedWeights, load_external_weights
from slbench.errors import SlbenchError
from slbench.features.known_weights import KnownWeights
from slbench.features.weights import find_weights_file, hub_checkpoints_dir

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESNET18_IMAGENET = KnownWeights(
    key="resnet18-imagenet",
    file_name="resnet18-f37072fd.pth",  # torchvision's ResNet18_Weights.IMAGENET1K_V1
    sha256="f37072fd",  # the published prefix the torch hub file name carries
    url="https://download.pytorch.org/models/resnet18-f37072fd.pth",
)


@dataclass(frozen=True)
class ClassifierConfig:
    """How the classifier of every arm is trained (the same for all arms of a run)."""

    epochs: int = 20  # passes over each arm's training set
    batch_size: int = 32  # images per optimiser step
    learning_rate: float = 1e-3  # AdamW peak learning rate, decayed to 0 by a cosine schedule
    weight_decay: float = 1e-4  # AdamW decoupled weight decay
    augment: bool = True  # random flips and 90-degree turns
    pretrained: bool = False  # start from torchvision's ImageNet weights instead of random ones

    @property
    def name(self) -> str:
        """The classifier's name as result rows record it."""
        return "resnet18-imagenet" if self.pretrained else "resnet18"


def select_device(device: str | torch.device | None = None) -> torch.device:
    """The given device, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build_classifier(num_classes: int, *, imagenet: VerifiedWeights | None = None) -> nn.Module:
    """ResNet-18 with ``num_classes`` outputs; from scratch, or from verified ImageNet weights.

    With weights, every layer but the final one is loaded; the final layer is new, since the
    ImageNet head has 1,000 classes.
    """
    if num_classes < 2:
        raise SlbenchError(f"a classifier needs at least two classes, got {num_classes}; use data with several lesion classes")
    if imagenet is None:
        return resnet18(weights=None, num_classes=num_classes)
    model = resnet18(weights=None)
    try:
        model.load_state_dict(imagenet.state_dict)
    except RuntimeError as err:
        raise SlbenchError(f"{imagenet.path} is not a ResNet-18 state dict ({str(err).splitlines()[0]}); "
                           f"replace it with torchvision's {RESNET18_IMAGENET.file_name}") from None
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def find_imagenet_weights(weights_dir: str | Path | None = None) -> VerifiedWeights:
    """torchvision's ImageNet ResNet-18 weights from ``weights_dir`` or the torch hub cache, hash-checked
    and read weights-only; never downloaded."""
    path = find_weights_file(RESNET18_IMAGENET, weights_dir)
    if path is None:
        target = Path(weights_dir) if weights_dir else hub_checkpoints_dir()
        raise SlbenchError(
            f"--pretrained needs {RESNET18_IMAGENET.file_name}: download it from {RESNET18_IMAGENET.url} into "
            f"{target} (or a folder passed with --weights-dir), or leave out --pretrained to train from scratch"
        )
    try:
        return load_external_weights(path, expected_sha256=RESNET18_IMAGENET.sha256)
    except UnsafeWeightsError as err:
        raise SlbenchError(str(err)) from None


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    num_classes: int,
    config: ClassifierConfig,
    seed: int,
    device: torch.device,
    imagenet: VerifiedWeights | None = None,
    on_step: Callable[[float], None] | None = None,
) -> nn.Module:
    """Train a fresh classifier on uint8 images N x 3 x R x R with int64 labels; returns it in eval mode."""
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    if images.shape[0] < 2:
        raise SlbenchError(f"cannot train a classifier on {images.shape[0]} image(s); use more training images")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_classifier(num_classes, imagenet=imagenet)
    model = _to_device(model, device)
    images, labels = images.to(device), labels.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    total_steps = config.epochs * steps_per_epoch(images.shape[0], config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    )
    amp_dtype = _amp_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    shuffler = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    with deterministic_on_cpu(device):
        for _ in range(config.epochs):
            for index in _batches(images.shape[0], config.batch_size, shuffler):
                batch = images[index.to(device)]
                if config.augment:
                    batch = dihedral_augment(batch, shuffler)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss = loss_fn(model(_model_input(batch)), labels[index.to(device)])
                optimiser.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimiser)
                scaler.update()
                schedule.step()
                if on_step is not None:
                    on_step(float(loss.detach()))
    return model.eval()


@torch.no_grad()
def predict_probabilities(
    model: nn.Module, images: torch.Tensor, *, device: torch.device, batch_size: int = 256
) -> np.ndarray:
    """Softmax class probabilities (float64, N x K) for uint8 images N x 3 x R x R."""
    model.eval()
    amp_dtype = _amp_dtype(device)
    chunks = []
    with deterministic_on_cpu(device):
        for start in range(0, images.shape[0], batch_size):
            batch = images[start:start + batch_size].to(device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = model(_model_input(batch))
            chunks.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(chunks).double().numpy()


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float, scaled to [0, 1] and normalised with the ImageNet mean and std."""
    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def dihedral_augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Apply to each square image one of the 8 flips and 90-degree turns, drawn from ``generator``."""
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"dihedral augmentation needs square images, got {tuple(images.shape[-2:])}")
    flags = torch.randint(0, 2, (3, images.shape[0], 1, 1, 1), generator=generator).bool().to(images.device)
    images = torch.where(flags[0], images.transpose(-1, -2), images)
    images = torch.where(flags[1], images.flip(-1), images)
    return torch.where(flags[2], images.flip(-2), images)


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Optimiser steps in one epoch (a trailing batch of one image is dropped; see :func:`_batches`)."""
    full, rest = divmod(n_images, batch_size)
    return full + (1 if rest > 1 or (rest == 1 and full == 0) else 0)


@contextlib.contextmanager
def deterministic_on_cpu(device: torch.device) -> Iterator[None]:
    """Deterministic kernels on CPU for the duration; the previous global setting is restored."""
    if device.type != "cpu":
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


def _batches(n_images: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; a trailing batch of one image is dropped (BatchNorm cannot train on it)."""
    order = torch.randperm(n_images, generator=generator)
    batches = list(order.split(batch_size))
    if len(batches) > 1 and batches[-1].numel() == 1:
        batches.pop()
    return batches


def _model_input(batch: torch.Tensor) -> torch.Tensor:
    inputs = normalise(batch)
    return inputs.contiguous(memory_format=torch.channels_last) if inputs.is_cuda else inputs


def _amp_dtype(device: torch.device) -> torch.dtype | None:
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _to_device(model: nn.Module, device: torch.device) -> nn.Module:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        return model.to(device, memory_format=torch.channels_last)
    return model.to(device)
