"""The ``lesion`` extractor: slbench's own small CNN, trained to tell the seven lesion classes apart.

ImageNet networks (Inception, VGG16, CLIP, DINOv2) measure dermoscopic images in a space
built for everyday objects, and need weights downloaded from the internet. The ``lesion``
extractor is trained by slbench on the real images of the dataset under evaluation, all seven
ISIC 2018 classes, so it works offline and its features reflect what separates lesion classes.
Its features are the penultimate layer (the embedding before the class logits), as Inception's
pool3 features are for FID.

Network: a stride-2 3x3 convolution stem, then blocks of 3x3 convolution, batch norm, ReLU and
2x2 max-pooling (widths ``CONV_CHANNELS``), global average pooling, a linear embedding (the
features) and a linear classifier over ReLU of the embedding. Training: AdamW with a one-cycle
schedule on class-weighted cross-entropy (ISIC 2018 is dominated by NV), seeded minibatch order
and dihedral augmentation (flips and quarter turns, to which dermoscopy is indifferent), on one
CPU thread, so that a seed gives the same weights bit for bit on any machine.

By default it trains on the training side of the lesion-grouped split that ``slbench train
--split train`` and ``slbench utility`` use (:func:`slbench.data.split_by_lesion`, seed 0, a fifth
held out), so that its accuracy, and the class-consistency ceiling it gives, can be measured on
real images it never saw; ``split="all"`` trains on every image.

Stored as ``lesion-<fingerprint>-<R>px.safetensors`` (tensors) plus ``.json`` (the training
settings, the split, the dataset's full fingerprint and the safetensors file's sha256) in
``cache_dir("lesion")``; nothing is pickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from generators.registry import MODELS
from generators.safe_io import (
    UnsafeWeightsError,
    atomic_write_json,
    load_safetensors_with_metadata,
    save_safetensors,
    sha256_file,
)
from slbench.console import console, make_progress, plain
from slbench.data import CATEGORIES, Dataset, load_dataset, load_images, split_by_lesion
from slbench.data.split import DEFAULT_SPLIT_SEED, DEFAULT_SPLIT_TEST_FRACTION, DataSplit
from slbench.errors import SlbenchError
from slbench.features.extractor import FeatureExtractor
from slbench.paths import cache_dir
from slbench.threads import single_cpu_thread

CLASSES = CATEGORIES  # class index i of the classifier is CATEGORIES[i]
CONV_CHANNELS = (16, 32, 64, 128)
EMBED_DIM = 128
DEFAULT_RESOLUTION = 64
RESIZE_FILTER = "bilinear-antialias"  # used only when images arrive at another size than trained on
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LesionTrainConfig:
    resolution: int = DEFAULT_RESOLUTION  # images are resized to R x R (``load_images``, squash)
    epochs: int = 10  # passes over the training images
    batch_size: int = 16
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0  # initialisation, minibatch order and augmentation
    split: str = "train"  # "train": the training side of the lesion-grouped split; "all": every image


class LesionNet(nn.Module):
    """Conv blocks, global pool, a linear embedding (the features) and a linear classifier."""

    def __init__(self, resolution: int = DEFAULT_RESOLUTION, num_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.resolution = resolution
        blocks: list[nn.Module] = []
        in_channels = 3
        for index, channels in enumerate(CONV_CHANNELS):
            stem = index == 0  # a stride-2 stem instead of pooling keeps the first, largest layer cheap
            blocks += [
                nn.Conv2d(in_channels, channels, 3, stride=2 if stem else 1, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            ]
            if not stem:
                blocks.append(nn.MaxPool2d(2))
            in_channels = channels
        self.trunk = nn.Sequential(*blocks)
        self.embed = nn.Linear(in_channels, EMBED_DIM)
        self.classify = nn.Linear(EMBED_DIM, num_classes)

    def features(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features of uint8 images (resized to the trained resolution if needed)."""
        x = images_uint8.float() / 127.5 - 1.0
        if x.shape[-2:] != (self.resolution, self.resolution):
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear", antialias=True)
        pooled = self.trunk(x).mean(dim=(2, 3))
        return self.embed(pooled)

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        return self.features(images_uint8)

    def logits(self, images_uint8: torch.Tensor) -> torch.Tensor:
        return self.classify(F.relu(self.features(images_uint8)))


def lesion_dir() -> Path:
    return cache_dir("lesion")


def model_stem(fingerprint: str, resolution: int) -> str:
    return f"lesion-{fingerprint[:16]}-{resolution}px"


def trained_models() -> list[Path]:
    """The metadata files of every ``lesion`` extractor in the cache."""
    return sorted(lesion_dir().glob("lesion-*px.json"))


def dihedral(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One random flip/quarter-turn (of the eight symmetries of a square) for the whole batch."""
    turns = int(torch.randint(0, 4, (1,), generator=generator))
    flip = bool(torch.randint(0, 2, (1,), generator=generator))
    images = torch.rot90(images, turns, dims=(2, 3))
    return torch.flip(images, dims=(3,)) if flip else images


def class_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (mean 1 over the classes present); absent classes get 0."""
    counts = torch.bincount(labels, minlength=num_classes).float()
    present = counts > 0
    weights = torch.zeros(num_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def fit_lesion_net(images: torch.Tensor, labels: torch.Tensor, config: LesionTrainConfig) -> LesionNet:
    """Train a :class:`LesionNet` on uint8 images and class indices (into ``CLASSES``), on one CPU thread."""
    with single_cpu_thread():
        return _fit(images, labels, config)


def _fit(images: torch.Tensor, labels: torch.Tensor, config: LesionTrainConfig) -> LesionNet:
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = LesionNet(config.resolution)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(labels, len(CLASSES)))
    steps_per_epoch = -(-len(images) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch
    )
    net.train()
    with make_progress(transient=True) as progress:
        task = progress.add_task("training lesion extractor", total=config.epochs)
        for _ in range(config.epochs):
            order = torch.randperm(len(images), generator=generator)
            for start in range(0, len(images), config.batch_size):
                index = order[start : start + config.batch_size]
                batch = dihedral(images[index], generator)
                loss = loss_fn(net.logits(batch), labels[index])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
            progress.advance(task)
    return net.eval()


def balanced_accuracy(net: LesionNet, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> float:
    """The mean over the classes present in ``labels`` of the share of their images predicted as
    that class. Plain accuracy would reward a net that calls everything NV, two thirds of ISIC."""
    with torch.inference_mode(), single_cpu_thread():
        batches = [images[i : i + batch_size] for i in range(0, len(images), batch_size)]
        predicted = torch.cat([net.logits(batch).argmax(1) for batch in batches])
    recalls = [(predicted[labels == c] == c).float().mean() for c in labels.unique()]
    return float(torch.stack(recalls).mean())


def lesion_split(dataset: Dataset) -> DataSplit:
    """The lesion-grouped split the extractor trains on the training side of."""
    return split_by_lesion(dataset, test_fraction=DEFAULT_SPLIT_TEST_FRACTION, seed=DEFAULT_SPLIT_SEED)


def labelled_images(by_class: dict[str, list], resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of every class's records at ``resolution`` and their class indices."""
    chosen = [(category, records) for category, records in by_class.items() if records]
    if not chosen:
        return torch.zeros((0, 3, resolution, resolution), dtype=torch.uint8), torch.zeros(0, dtype=torch.long)
    images = [load_images(records, resolution) for _, records in chosen]
    labels = [torch.full((len(records),), CLASSES.index(category), dtype=torch.long) for category, records in chosen]
    return torch.cat(images), torch.cat(labels)


def load_training_images(data: str | Path, resolution: int, split: str = "all"
                         ) -> tuple[torch.Tensor, torch.Tensor, Dataset, DataSplit | None]:
    """The usable images of every class in ``data`` (all, or the training side of :func:`lesion_split`)
    at ``resolution``, their class indices, the dataset and the split (None for ``all``)."""
    if split not in ("all", "train"):
        raise SlbenchError(f"--split must be all or train, got {split!r}")
    dataset = load_dataset(data).require_usable()
    halves = lesion_split(dataset) if split == "train" else None
    by_class = {c: (halves.train.get(c, []) if halves else dataset.records(c)) for c in dataset.categories()}
    present = [category for category, records in by_class.items() if records]
    if len(present) < 2:
        raise SlbenchError(
            f"{data} has images of {len(present)} class(es); the lesion extractor needs at least two classes"
        )
    images, labels = labelled_images(by_class, resolution)
    return images, labels, dataset, halves


def split_record(halves: DataSplit | None) -> dict:
    """What the metadata says of the images the extractor was trained on."""
    if halves is None:
        return {"side": "all"}
    return {"side": "train", "grouping": "lesion", "seed": halves.seed, "test_fraction": halves.test_fraction,
            "train_fingerprint": halves.fingerprint("train"), "test_fingerprint": halves.fingerprint("test")}


def refuse_replacing_another_split(stored: Path, split: dict) -> None:
    """A user error when ``stored`` holds an extractor of the same images and resolution trained
    on other images of them: every later ``--features lesion`` would silently measure with it."""
    try:
        previous = json.loads(stored.read_text(encoding="utf-8")).get("split")
    except (OSError, ValueError, AttributeError):
        return
    if isinstance(previous, dict) and previous != split:
        def trained_on(record: dict) -> str:
            return "all images" if record.get("side") == "all" else "the training side of the lesion split"
        raise SlbenchError(f"{stored} holds the lesion extractor of these images at this resolution, trained on "
                           f"{trained_on(previous)}, which `--features lesion` uses; replacing it with one trained on "
                           f"{trained_on(split)} would change what every later evaluation measures: move it and its "
                           ".safetensors aside first")


def train_lesion_extractor(
    *, data: str | Path, resolution: int = DEFAULT_RESOLUTION, epochs: int | None = None, seed: int = 0,
    split: str = "train",
) -> Path:
    """Train the ``lesion`` extractor on ``data`` (the training side of its lesion split, or ``all``)
    and store it in the cache; returns its metadata path."""
    largest = max(max(spec.resolutions) for spec in MODELS.values())
    if not 16 <= resolution <= largest or resolution & (resolution - 1):
        raise SlbenchError(f"--resolution must be a power of two from 16 to {largest} (the largest images the models "
                           f"make), got {resolution}")
    if epochs is not None and epochs < 1:
        raise SlbenchError(f"--epochs must be at least 1, got {epochs}")
    config = LesionTrainConfig(resolution=resolution, seed=seed, split=split,
                               **({} if epochs is None else {"epochs": epochs}))
    images, labels, dataset, halves = load_training_images(data, resolution, split)
    fingerprint = dataset.fingerprint()
    stem = model_stem(fingerprint, resolution)
    refuse_replacing_another_split(lesion_dir() / f"{stem}.json", split_record(halves))
    net = fit_lesion_net(images, labels, config)
    held_out = labelled_images(halves.test, resolution) if halves else None
    weights_path = save_safetensors(lesion_dir() / f"{stem}.safetensors", net.state_dict())
    metadata = {
        "format": FORMAT_VERSION,
        "extractor": "lesion",
        "data_fingerprint": fingerprint,
        "data_root": str(dataset.root),
        "classes": list(CLASSES),
        "class_counts": {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)},
        "config": asdict(config),
        "split": split_record(halves),
        "train_balanced_accuracy": balanced_accuracy(net, images, labels),
        "held_out_balanced_accuracy": (balanced_accuracy(net, *held_out) if held_out and len(held_out[1]) else None),
        "weights_sha256": sha256_file(weights_path),
        "torch": torch.__version__,
    }
    metadata_path = atomic_write_json(lesion_dir() / f"{stem}.json", metadata)
    held = metadata["held_out_balanced_accuracy"]
    on_held_out = f", on {len(held_out[1])} held-out images {held:.2f}" if held is not None else ""
    console.print(
        f"lesion extractor trained on {len(images)} images ({'the training side of the lesion split' if halves else 'all'}, "
        f"{resolution}px, {config.epochs} epochs; balanced accuracy on its training images "
        f"{metadata['train_balanced_accuracy']:.2f}{on_held_out}): {plain(metadata_path)}"
    )
    return metadata_path


def _train_command_hint(resolution: int | None = None) -> str:
    size = f" --resolution {resolution}" if resolution else ""
    return f"run: slbench features train --data PATH{size} (PATH = the same dataset folder as this run's --data)"


def find_lesion_model(fingerprint: str, resolution: int, weights_dir: str | Path | None = None) -> Path:
    """The metadata file of the extractor trained on the data with ``fingerprint`` at ``resolution``."""
    folders = ([Path(weights_dir)] if weights_dir else []) + [lesion_dir()]
    stem = model_stem(fingerprint, resolution)
    for folder in folders:
        if (folder / f"{stem}.json").is_file():
            return folder / f"{stem}.json"
    others = sorted({p.stem.rsplit("-", 1)[-1] for f in folders for p in f.glob(f"lesion-{fingerprint[:16]}-*px.json")})
    trained = f" (trained for this data at: {', '.join(others)})" if others else ""
    raise SlbenchError(
        f"no lesion extractor trained for this dataset (fingerprint {fingerprint[:16]}) at {resolution}px{trained}; "
        + _train_command_hint(resolution)
    )


def read_lesion_model(metadata_path: Path, fingerprint: str) -> tuple[LesionNet, dict]:
    """Load a stored extractor: JSON settings, safetensors tensors, the two checked against each other."""
    try:
        metadata = json.loads(metadata_path.read_text())
        weights_path = metadata_path.with_suffix(".safetensors")
        tensors, _ = load_safetensors_with_metadata(weights_path)
        sha = sha256_file(weights_path)
        if metadata.get("format") != FORMAT_VERSION or metadata.get("data_fingerprint") != fingerprint:
            raise ValueError("its metadata does not match this dataset or this version of slbench")
        if sha != metadata.get("weights_sha256"):
            raise ValueError("its weights file does not match its metadata")
        net = LesionNet(int(metadata["config"]["resolution"]))
        net.load_state_dict(tensors)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, UnsafeWeightsError) as err:
        raise SlbenchError(
            f"lesion extractor {metadata_path} is unusable ({err}); retrain it: " + _train_command_hint()
        ) from err
    return net.eval(), metadata


def load_lesion_extractor(
    *,
    data_fingerprint: str | None,
    resolution: int | None = None,
    weights_dir: str | Path | None = None,
    device: str | torch.device | None = None,
) -> FeatureExtractor:
    """The ``lesion`` extractor trained on the dataset with ``data_fingerprint``."""
    if not data_fingerprint:
        raise SlbenchError("the lesion extractor needs the dataset it was trained on; " + _train_command_hint())
    metadata_path = find_lesion_model(data_fingerprint, resolution or DEFAULT_RESOLUTION, weights_dir)
    net, metadata = read_lesion_model(metadata_path, data_fingerprint)
    return FeatureExtractor(
        name="lesion",
        network=net,
        dim=EMBED_DIM,
        weights_sha256=metadata["weights_sha256"],
        input_resolution=net.resolution,
        resize_filter=RESIZE_FILTER,
        weights_path=metadata_path.with_suffix(".safetensors"),
        device=device,
    )
