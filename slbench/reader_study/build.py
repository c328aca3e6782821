"""``slbench reader-study build``: the study page for raters and the answer key kept from them.

Real images (see :mod:`slbench.reader_study.selection`) and generated ones reach the page
through the same path: uint8 RGB at one study resolution (real ones decoded and resized by the
data layer with its recorded filter, generated ones scaled down with that same filter by
:func:`slbench.evaluation.samples.generate_uint8`, never up), then one PNG encoder
(:mod:`slbench.reader_study.images`). Generated images of a checkpoint with ``--seed S`` are
those ``slbench generate CHECKPOINT --seed S`` writes, in its numbering. The items are shuffled
with the seed and numbered after shuffling, so neither order nor id says anything. The study id
is a hash of the items, so the same inputs and seed give the same page, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

import generators
from generators.training.distributed import select_device
from reports.files import atomic_write_text
from slbench.console import console, make_progress
from slbench.data import CATEGORIES, RESIZE_FILTER, load_dataset, load_images
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import load_generator
from slbench.evaluation.plan import choose_resolution, parse_categories, parse_models
from slbench.evaluation.samples import generate_uint8
from slbench.reader_study.files import REAL, SYNTHETIC, KeyItem, StudyKey
from slbench.reader_study.images import data_uri, encode_png
from slbench.reader_study.page import render_page
from slbench.reader_study.selection import choose_real
from slbench.training import SPLIT_SEED, SPLIT_TEST_FRACTION
from slbench.utility.checkpoints import resolve_sources

PAGE_NAME, KEY_NAME = "study.html", "key.json"


@dataclass(frozen=True)
class StudyImage:
    png: bytes
    truth: str
    category: str
    model: str | None
    source: str


def build_study(
    *, data: str | Path, checkpoints: str | Path, models: str = "all", categories: str = "MEL", n_real: int = 20,
    n_fake: int = 20, seed: int = 0, out: str | Path | None = None, resolution: int | None = None,
    resize: str = "squash", device: str = "auto",
) -> tuple[Path, Path]:
    """Write ``study.html`` and ``key.json`` into ``out`` (default ``reader-studies/<study id>/``)."""
    for name, value in (("--n-real", n_real), ("--n-fake", n_fake), ("--seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SlbenchError(f"{name} must be a whole number >= 0, not {value!r}")
    if n_real + n_fake == 0:
        raise SlbenchError("a study needs images: give --n-real or --n-fake above 0")
    dataset = load_dataset(data).require_usable()
    model_names = parse_models(models, tuple(generators.MODELS))
    category_names = parse_categories(categories, CATEGORIES, dataset.categories())
    absent = [c for c in category_names if not dataset.records(c)]
    if absent:
        raise SlbenchError(f"the dataset has no images of {', '.join(absent)}; choose from "
                           f"{', '.join(dataset.categories())}")
    pairs = resolve_sources(Path(checkpoints), model_names, category_names)
    size, size_source, problems = choose_resolution(pairs, resolution)
    if problems or not size:
        raise SlbenchError("; ".join(problems or ["no study resolution"]) + "; choose another --resolution")
    real = choose_real(dataset, category_names, pairs, n_real, seed)
    images = [StudyImage(encode_png(image), REAL, category, None, record.image_id)
              for category in category_names
              for record, image in zip(real.records[category], load_images(real.records[category], size, resize=resize))]
    images += _generated(pairs, n_fake, seed=seed, resolution=size, device=select_device(device))
    settings = {
        "data": str(dataset.root), "layout": dataset.layout, "data_fingerprint": dataset.fingerprint(),
        "categories": list(category_names), "models": list(model_names), "n_real_per_class": n_real,
        "n_fake_per_model_and_class": n_fake, "seed": seed, "resolution": size, "resolution_source": size_source,
        "resize": resize, "resize_filter": RESIZE_FILTER, "split_seed": SPLIT_SEED,
        "split_test_fraction": SPLIT_TEST_FRACTION, "real_source": real.source,
        "checkpoints": {p.key: str(p.checkpoint.path) for p in pairs},
        "checkpoint_sha256": {p.key: p.checkpoint.sha256 for p in pairs},
        "checkpoints_never_saw_real_images": real.checkpoints_unseen,
    }
    return write_study(images, settings, seed=seed, out=out)


def _generated(pairs, n: int, *, seed: int, resolution: int, device) -> list[StudyImage]:
    """``n`` images per checkpoint, seeded as ``slbench generate --seed`` seeds them."""
    images: list[StudyImage] = []
    if n == 0:
        return images
    with make_progress(transient=True) as progress:
        task = progress.add_task("Generating study images", total=n * len(pairs))
        for pair in pairs:
            generator = load_generator(pair.checkpoint, device)
            batch = generate_uint8(generator, n, seed=seed, resolution=resolution, device=device,
                                   on_chunk=lambda count: progress.advance(task, count))
            images += [StudyImage(encode_png(image), SYNTHETIC, pair.category, pair.model,
                                  f"{pair.model} seed {seed} index {index}") for index, image in enumerate(batch)]
    return images


def write_study(images: Sequence[StudyImage], settings: dict, *, seed: int, out: str | Path | None) -> tuple[Path, Path]:
    """Shuffle, number, and write the page and the key; return their paths."""
    order = np.random.default_rng(seed).permutation(len(images))
    shuffled = [images[i] for i in order]
    digest = hashlib.sha256()
    for image in shuffled:
        digest.update(hashlib.sha256(image.png).digest() + image.truth.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    study_id = "rs-" + digest.hexdigest()[:12]
    width = max(3, len(str(len(shuffled))))
    ids = [f"item-{index + 1:0{width}d}" for index in range(len(shuffled))]
    key = StudyKey(study_id, tuple(KeyItem(item_id, image.truth, image.category, image.model, image.source)
                                   for item_id, image in zip(ids, shuffled)), tuple(CATEGORIES), settings)
    folder = Path(out) if out is not None else Path("reader-studies") / study_id
    refuse_other_study_folder(folder, study_id)
    page = render_page(study_id, [(item_id, data_uri(image.png)) for item_id, image in zip(ids, shuffled)], CATEGORIES)
    try:
        page_path = atomic_write_text(folder / PAGE_NAME, page)
        key_path = atomic_write_text(folder / KEY_NAME, json.dumps(key.to_json(), indent=2, sort_keys=True) + "\n")
    except OSError as err:
        raise SlbenchError(f"cannot write the study to {err.filename or folder}: {err.strerror or err}; "
                           "choose another --out") from None
    return page_path, key_path


def refuse_other_study_folder(folder: Path, study_id: str) -> None:
    """A user error unless ``folder`` is new, empty or holds this very study: replacing another
    study's key would leave the answers collected for it unscorable."""
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    try:
        stored = json.loads((folder / KEY_NAME).read_text(encoding="utf-8")).get("study_id")
    except (OSError, ValueError, AttributeError):
        stored = None
    if stored == study_id:
        return
    held = f"the key of study {stored}, whose answers would no longer score" if isinstance(stored, str) \
        else "other files and no key of this study"
    raise SlbenchError(f"--out {folder} holds {held}; give a new or empty folder")
