"""``slbench demo``: the whole workflow, offline on CPU, on the built-in synthetic data.

Steps, each skipped when a previous demo in the same folder already did it:

1. write the built-in synthetic dataset (all seven classes, balanced);
2. train the ``lesion`` feature extractor on all seven classes;
3. train SL-StyleGAN, StyleGAN and DCGAN on its melanoma images at 32 px, each on the same
   number of images (``DemoConfig.kimg``) at the same batch, so the demo's table compares equal
   budgets over equal steps, into ``checkpoints-<digest of the training settings>`` (a folder
   left by a demo with other settings is kept, not resumed). Every checkpoint is evaluated in
   ``lesion`` space as it is written (``slbench train --eval-every 1``) into the ``track.csv``
   beside it. To stay within minutes on two CPU cores every model is capped at the same number
   of feature maps per layer (``DemoConfig.width_cap``, ``--set fmap_max``):
   StyleGAN's published 512 maps at every resolution up to 32 px would take most of an hour.
   The models train in ``DemoConfig.workers`` processes of one thread each: small CPU networks
   run fastest with one thread per core (two threads in one process on a busy two-core machine
   were 25 times slower per step). The budget is what fits a few minutes, far from convergence:
   the table ranks three short runs, not three models. StyleGAN is the one model trained off its
   official schedule, and the demo says so: at 32 px from the start (growing on the ``short``
   schedule within 12.8k images ended on freshly faded-in 32 px layers whose samples were colour
   noise, FID 749 in ``lesion`` space) at 3e-3, its official rate at 512 px and above (at its
   32 px rate of 1e-3 the spread of per-image mean colour over its samples narrowed three times
   more slowly and FID stayed near 380), with R1 gamma 1 (the official 10 was set for 1024 px
   faces; at 32 px gamma 1 lowered the last FID from 134 to 83 at seed 0 and from 158 to 105 at
   seed 1, and 0.1 gave 85). Even so its samples vary in colour more than skin does and share one
   lesion shape. The colour is the last layer's: that layer's AdaIN sets each channel's mean, and
   ToRGB is a 1x1 convolution, so an image's mean colour is ToRGB of the last style's shift, a
   random function of w at initialisation that 700 steps only begin to flatten (per-image colour
   spread 0.11 against the real images' 0.04). ``slbench demo --kimg K`` trains longer, in its own folder.
   Then it prints each model's FID and recall at every checkpoint (:mod:`slbench.demo_curves`):
   runs this short on 40 images are unstable, SL-StyleGAN's FID moving several-fold from one
   checkpoint to the next, so the last step's number has to be read against its curve;
4. ``slbench run`` the three models with ``--features lesion`` (which writes the reports, the
   training curves among them) into ``results-<digest of the checkpoints>``, so a rerun resumes
   its own results;
5. ``slbench check`` the SL-StyleGAN checkpoint against that run: the checkpoint the run measured,
   so every delta is 0 when the measurement reproduces, and the demo says whether it did.

Each step prints how long it took. It ends by printing where the HTML report is. Nothing is
downloaded: LPIPS needs AlexNet weights that a fresh machine does not have, so without them the
run skips LPIPS diversity, says so, and records why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from rich.text import Text

from generators.checkpoint import CheckpointError, list_checkpoints, read_checkpoint_metadata
from slbench.console import console, labelled, plain
from slbench.data import load_dataset
from slbench.data.synth import MANIFEST, staging_prefix, write_synthetic_dataset
from slbench.demo_curves import CURVE_METRICS, curves_table, ensure_track, fid_swing
from slbench.errors import SlbenchError
from slbench.evaluation import run_evaluation
from slbench.evaluation.checkpoints import read_checkpoint_info
from slbench.features import get_extractor
from slbench.features.lesion import train_lesion_extractor
from slbench.gate import CheckOutcome, check_candidate, print_outcome
from slbench.threads import single_cpu_thread
from slbench.training import train_model

DEFAULT_DEMO_FOLDER = Path("slbench-demo")
DEMO_DATA = "data"  # the demo folder's synthetic dataset, which marks the folder as a demo's


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo: small enough for a few minutes on two CPU cores."""

    category: str = "MEL"
    resolution: int = 32
    per_class: int = 40  # synthetic images per class (balanced)
    image_size: tuple[int, int] = (64, 48)  # synthetic image width x height
    kimg: float = 11.2  # every model trains on the same number of images, so the table compares like with like
    batch_size: int = 16  # and at the same batch, so on the same number of steps
    width_cap: int | None = 32  # feature maps per layer of every model (``--set fmap_max``); None: published widths
    # Further training settings per model (``slbench train --set``), which also name the models.
    # StyleGAN trains at full size at 3e-3 with R1 gamma 1 (see the module docstring) and a
    # weight-average half-life of 250 images: the official 10k would leave the averaged generator,
    # the one checkpoints hand out, near its initialisation after a few thousand images.
    settings: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "sl-stylegan": (),
        "stylegan": ("start_resolution=32", "official_lr=false", "lr=0.003", "r1_gamma=1", "ema_kimg=0.25"),
        "dcgan": (),
    })
    snapshot_every: int = 100  # steps between the checkpoints every model saves and the demo evaluates
    workers: int = 2  # training processes, one thread each
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
        if self.workers < 1:
            raise ValueError(f"the demo needs at least one training process, got {self.workers}")
        if self.width_cap is not None:
            capped = [model for model, values in self.settings.items()
                      if any(value.startswith("fmap_max=") for value in values)]
            if capped:
                raise ValueError(f"{', '.join(capped)} set fmap_max while width_cap caps every model; use one of them")

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.settings)

    def training_settings(self, model: str) -> tuple[str, ...]:
        """``--set`` values of ``model``: the common batch, width cap and checkpoint cadence, then its own settings."""
        cap = () if self.width_cap is None else (f"fmap_max={self.width_cap}",)
        return (f"batch_size={self.batch_size}", *cap, f"snapshot_every={self.snapshot_every}", *self.settings[model])

    def evaluation_options(self) -> dict[str, object]:
        """How the run stage evaluates the last checkpoints and training evaluates every one, so the
        curves' last values are the table's."""
        return {"features": "lesion", "n_samples": self.n_samples, "seed": self.seed, "device": "cpu"}

    def training_digest(self) -> str:
        """Eight hex digits naming everything that shapes the demo's checkpoints: a demo folder
        trained with other settings keeps its checkpoints and this one trains its own beside them."""
        shaping = [self.category, self.resolution, self.per_class, list(self.image_size), self.kimg, self.seed,
                   {model: list(self.training_settings(model)) for model in self.models}]
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:8]

    def describe(self) -> str:
        """The budget, the widths and every model's own settings, so the output says how each was trained."""
        widths = "published widths" if self.width_cap is None else f"every model at most {self.width_cap} feature maps"
        listed = "; ".join(f"{model} {' '.join(values)}" for model, values in self.settings.items() if values)
        return (f"{', '.join(self.models)} on {self.category} at {self.resolution} px, {self.kimg:g} kimg each at "
                f"batch {self.batch_size}, {widths}" + (f"; own settings: {listed}" if listed else ""))


@dataclass(frozen=True)
class DemoOutcome:
    folder: Path
    results: Path
    report: Path
    check: CheckOutcome


def images_seen(folder: Path) -> int:
    """Images the newest checkpoint in ``folder`` was trained on (0 without a readable one)."""
    try:
        done = list_checkpoints(folder)
        return int(read_checkpoint_metadata(done[-1][1]).get("images_seen", 0)) if done else 0
    except (CheckpointError, OSError):
        return 0


def ensure_checkpoint(model: str, data: Path, checkpoints: Path, config: DemoConfig) -> Path:
    """Train ``model`` on the demo's budget of images, resuming a shorter earlier run, skipping a finished one."""
    out = checkpoints / model / config.category
    seen = images_seen(out)
    if seen >= config.kimg * 1000:
        console.print(f"{plain(model)}: trained already ({seen / 1000:g} kimg), skipping", highlight=False)
        return out
    train_model(
        model=model, category=config.category, data=data, resolution=config.resolution, kimg=config.kimg,
        out=out, seed=config.seed, resume=bool(list_checkpoints(out)), settings=config.training_settings(model),
        device="cpu", eval_every=1, eval_options=config.evaluation_options(),
    )
    return out


def train_all(data: Path, checkpoints: Path, config: DemoConfig, logs: Path) -> None:
    """Train every model that needs it: in this process with one worker, else in ``workers``
    single-thread processes, each writing its progress to ``logs/<model>.log``."""
    pending = [m for m in config.models if images_seen(checkpoints / m / config.category) < config.kimg * 1000]
    for model in config.models:
        if model not in pending:
            ensure_checkpoint(model, data, checkpoints, config)  # says it is skipped
    if config.workers == 1 or len(pending) <= 1:
        for model in pending:
            ensure_checkpoint(model, data, checkpoints, config)
        return
    logs.mkdir(parents=True, exist_ok=True)
    console.print(f"{', '.join(pending)} in {min(config.workers, len(pending))} processes of one thread; "
                  f"progress in {plain(logs)}", highlight=False)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(config.workers, len(pending)), mp_context=context) as pool:
        futures = {model: pool.submit(_train_in_worker, model, data, checkpoints, config, logs / f"{model}.log")
                   for model in pending}
        for model, future in futures.items():
            seconds = future.result()
            console.print(f"{plain(model)}: {config.kimg:g} kimg in {seconds:.0f} s", highlight=False)


def _train_in_worker(model: str, data: Path, checkpoints: Path, config: DemoConfig, log: Path) -> float:
    """One model's training in a worker process, one thread, its console output in ``log``."""
    torch.set_num_threads(1)
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        console.file = handle
        ensure_checkpoint(model, data, checkpoints, config)
    return time.perf_counter() - started


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


def reproduction_note(outcome: CheckOutcome) -> Text:
    """What checking the run's own checkpoint shows: every number measured again, to the last digit
    (the demo runs both on one thread) or at least to float rounding."""
    moved = [c for c in outcome.comparisons if c.delta != 0 and math.isfinite(c.delta)]
    changed = [c.metric for c in moved if not c.within_rounding]
    if changed:
        return labelled("warning:", "yellow", f"the checkpoint the run measured, measured again, moved "
                        f"{', '.join(changed)}: the measurement did not reproduce on this machine")
    how = "equal up to float rounding" if moved else "every delta is 0, the numbers reproduce to the last digit"
    return Text(f"the checkpoint the run measured, measured again: {how}; `slbench check` gates a new checkpoint "
                "against the run the same way")


@contextlib.contextmanager
def stage(title: str) -> Iterator[None]:
    """A titled step of the demo that prints how long it took."""
    console.rule(title)
    started = time.perf_counter()
    yield
    console.print(f"[dim]{plain(title.split(' ', 1)[0])} took {time.perf_counter() - started:.0f} s[/]")


def refuse_foreign_folder(folder: Path) -> None:
    """A user error unless ``folder`` is new, empty or an earlier demo's (its synthetic dataset
    is there, or only the staging folder an interrupted first step left), so a demo never writes
    its data, checkpoints and results among a user's own files."""
    if folder.exists() and not folder.is_dir():
        raise SlbenchError(f"--out {folder} is a file; give a folder for the demo (new, empty or an earlier demo's)")
    if not folder.is_dir() or (folder / DEMO_DATA / MANIFEST).is_file():
        return
    foreign = sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith(staging_prefix(DEMO_DATA)))
    if foreign:
        raise SlbenchError(f"--out {folder} holds files that are not an earlier demo's ({foreign[0]}"
                           f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); give a new or empty "
                           "folder, or the folder of an earlier demo")


def run_demo(*, folder: str | Path = DEFAULT_DEMO_FOLDER, config: DemoConfig = DemoConfig()) -> DemoOutcome:
    """Run every step of the demo in ``folder`` and return where its results and report are."""
    folder = Path(folder)
    refuse_foreign_folder(folder)
    started = time.perf_counter()
    with single_cpu_thread():
        with stage("1/5 built-in synthetic data"):
            data = write_synthetic_dataset(folder / DEMO_DATA, per_class=config.per_class, balanced=True,
                                           seed=config.seed, image_size=config.image_size)
        with stage("2/5 lesion feature extractor"):
            ensure_lesion_extractor(data, config)
        checkpoints = folder / f"checkpoints-{config.training_digest()}"
        with stage("3/5 training the three models, evaluating every checkpoint"):
            console.print(config.describe(), highlight=False)
            train_all(data, checkpoints, config, folder / "logs")
            tracks = [ensure_track(checkpoints / model / config.category, config.evaluation_options())
                      for model in config.models]
            for metric in CURVE_METRICS:
                console.print(curves_table(tracks, metric))
            for swing in filter(None, map(fid_swing, tracks)):
                console.print(labelled("warning:", "yellow", swing))
        results = results_folder(folder, checkpoints, config)
        with stage("4/5 slbench run"):
            run_evaluation(
                data=data, models=",".join(config.models), categories=config.category, checkpoints=checkpoints,
                out=results, bootstrap=config.bootstrap, resume=True, **config.evaluation_options(),
            )
        with stage(f"5/5 slbench check {config.checked_model}"):
            outcome = check_candidate(candidate=checkpoints / config.checked_model / config.category,
                                      baseline=results, device="cpu")
            print_outcome(outcome)
            console.print(reproduction_note(outcome))
    report = (results / "report.html").resolve()
    console.print()
    console.print(f"demo finished in {time.perf_counter() - started:.0f} s on {os.cpu_count()} CPU cores; "
                  f"{config.kimg:g} kimg per model", highlight=False)
    if config.width_cap is not None:
        console.print(f"every model was capped at {config.width_cap} feature maps per layer (the same cap for all "
                      "three, narrower than published) to train on CPU in minutes", highlight=False)
    console.print(f"{config.kimg:g}k images is far from convergence: the table ranks the last checkpoint of short "
                  "runs, not models; the training curves above and in the report show how far that number moves "
                  "from one checkpoint to the next, the report's sample grids how far each model got; to rank models, "
                  "train each with several seeds and `slbench pool` their runs", highlight=False)
    console.print(labelled("HTML report:", "bold", report))
    return DemoOutcome(folder, results, report, outcome)
