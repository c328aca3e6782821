"""``slbench demo``: the whole workflow, offline on CPU, on the built-in synthetic data.

Steps, each skipped when a previous demo in the same folder already did it:

1. write the built-in synthetic dataset (all seven classes, balanced);
2. train SL-StyleGAN, StyleGAN and DCGAN on its melanoma images at 32 px, each on the same
   number of images (``DemoConfig.kimg``), so the demo's table compares equal budgets; the two
   baselines at reduced widths, so that the whole demo stays within minutes on two CPU cores
   (SL-StyleGAN has no width settings and trains as published). A budget this small is far
   from convergence: the table ranks three short runs, not three models;
3. train the ``lesion`` feature extractor on all seven classes;
4. ``slbench run`` the three models with ``--features lesion`` (which writes the reports) into
   ``results-<digest of the checkpoints>``, so a rerun resumes its own results;
5. ``slbench check`` the SL-StyleGAN checkpoint against that run.

It ends by printing where the HTML report is. Nothing is downloaded: LPIPS needs AlexNet
weights that a fresh machine does not have, so without them the run skips LPIPS diversity,
says so, and records why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from generators.checkpoint import CheckpointError, list_checkpoints, read_checkpoint_metadata
from slbench.console import console, labelled, plain
from slbench.data import load_dataset
from slbench.data.synth import write_synthetic_dataset
from slbench.errors import SlbenchError
from slbench.evaluation import run_evaluation
from slbench.evaluation.checkpoints import read_checkpoint_info
from slbench.features import get_extractor
from slbench.features.lesion import train_lesion_extractor
from slbench.gate import CheckOutcome, check_candidate, print_outcome
from slbench.training import train_model

DEFAULT_DEMO_FOLDER = Path("slbench-demo")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo: small enough for a few minutes on two CPU cores."""

    category: str = "MEL"
    resolution: int = 32
    per_class: int = 40  # synthetic images per class (balanced)
    image_size: tuple[int, int] = (64, 48)  # synthetic image width x height
    kimg: float = 3.2  # every model trains on the same number of images, so the table compares like with like
    # Training settings per model (``slbench train --set``), which also name the models: the
    # baselines at reduced widths, and StyleGAN at full resolution from the start (its growing
    # schedule needs far more images) with a weight-average half-life of 250 images: the
    # official 10k would leave the averaged generator, the one checkpoints hand out, at its
    # initialisation after the demo's few thousand images.
    settings: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "sl-stylegan": ("snapshot_every=40",),
        "stylegan": ("fmap_max=32", "w_dim=128", "z_dim=128", "mapping_layers=4", "progressive=false",
                     "ema_kimg=0.25", "snapshot_every=40"),
        "dcgan": ("ngf=16", "ndf=16", "batch_size=32", "snapshot_every=20"),
    })
    lesion_epochs: int = 8
    n_samples: int = 200  # generated images per model
    bootstrap: int = 50
    seed: int = 0
    checked_model: str = "sl-stylegan"

    def __post_init__(self) -> None:
        if self.checked_model not in self.settings:
            raise ValueError("the checked model must be one of the demo's models (its settings)")
        if not self.kimg > 0:
            raise ValueError(f"the demo's training budget must be positive, got {self.kimg} kimg")

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.settings)


@dataclass(frozen=True)
class DemoOutcome:
    folder: Path
    results: Path
    report: Path
    check: CheckOutcome


def ensure_checkpoint(model: str, data: Path, checkpoints: Path, config: DemoConfig) -> Path:
    """Train ``model`` on the demo's budget of images, resuming a shorter earlier run, skipping a finished one."""
    out = checkpoints / model / config.category
    try:
        done = list_checkpoints(out)
        seen = int(read_checkpoint_metadata(done[-1][1]).get("images_seen", 0)) if done else 0
    except (CheckpointError, OSError):
        done, seen = [], 0
    if done and seen >= config.kimg * 1000:
        console.print(f"{plain(model)}: trained already ({seen / 1000:g} kimg), skipping", highlight=False)
        return out
    train_model(
        model=model, category=config.category, data=data, resolution=config.resolution, kimg=config.kimg,
        out=out, seed=config.seed, resume=bool(done), settings=config.settings[model], device="cpu",
    )
    return out


def ensure_lesion_extractor(data: Path, config: DemoConfig) -> None:
    """Train the ``lesion`` extractor for the demo data unless one is already stored."""
    fingerprint = load_dataset(data).fingerprint()
    try:
        get_extractor("lesion", data_fingerprint=fingerprint, resolution=config.resolution, device="cpu")
    except SlbenchError:
        train_lesion_extractor(data=data, resolution=config.resolution, epochs=config.lesion_epochs,
                               seed=config.seed)
        return
    console.print("lesion extractor: trained already, skipping", highlight=False)


def results_folder(folder: Path, checkpoints: Path, config: DemoConfig) -> Path:
    """``results-<digest of the checkpoints>``: a rerun with the same checkpoints finds (and resumes)
    its earlier results; new checkpoints get a new folder instead of mixing with stale numbers."""
    digest = hashlib.sha256()
    for model in config.models:
        digest.update(read_checkpoint_info(checkpoints / model / config.category).sha256.encode())
    return folder / f"results-{digest.hexdigest()[:8]}"


def run_demo(*, folder: str | Path = DEFAULT_DEMO_FOLDER, config: DemoConfig = DemoConfig()) -> DemoOutcome:
    """Run every step of the demo in ``folder`` and return where its results and report are."""
    folder = Path(folder)
    console.rule("1/5 built-in synthetic data")
    data = write_synthetic_dataset(folder / "data", per_class=config.per_class, balanced=True, seed=config.seed,
                                   image_size=config.image_size)
    console.rule(f"2/5 training three models on {config.category} at {config.resolution} px, "
                 f"{config.kimg:g} kimg each (equal budgets, reduced baseline widths)")
    checkpoints = folder / "checkpoints"
    for model in config.models:
        ensure_checkpoint(model, data, checkpoints, config)
    console.rule("3/5 lesion feature extractor")
    ensure_lesion_extractor(data, config)
    console.rule("4/5 slbench run")
    results = results_folder(folder, checkpoints, config)
    run_evaluation(
        data=data, models=",".join(config.models), categories=config.category, checkpoints=checkpoints,
        n_samples=config.n_samples, features="lesion", out=results, seed=config.seed,
        bootstrap=config.bootstrap, resume=True, device="cpu",
    )
    console.rule(f"5/5 slbench check {config.checked_model}")
    outcome = check_candidate(candidate=checkpoints / config.checked_model / config.category, baseline=results,
                              device="cpu")
    print_outcome(outcome)
    report = (results / "report.html").resolve()
    console.print()
    console.print(labelled("HTML report:", "bold", report))
    return DemoOutcome(folder, results, report, outcome)
