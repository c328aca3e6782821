"""The built-in synthetic lesion dataset, written in the ISIC 2018 Task 3 layout.

It is slbench's offline default data (the demo, the tests): procedural dermoscopy-like images
(:mod:`slbench.data.synth_render`), one lesion each, with per-class rules that make the classes
learnable. Class proportions follow the ISIC 2018 Task 3 training set (AKIEC 327, BCC 514,
BKL 1099, DF 115, NV 6705, MEL 1113, VASC 142 of 10,015) unless ``balanced``; every class keeps
at least :data:`MIN_PER_CLASS` images. About one lesion in eight is photographed twice, and
``ISIC2018_Task3_Training_LesionGroupings.csv`` says so, as the real data does.

Same arguments, same bytes: every random draw comes from a generator seeded with
(seed, class, lesion, view), and JPEGs are encoded at a fixed quality with no metadata. This
holds for one numpy build on one CPU family; elsewhere numpy's vectorised ``exp`` may round a
last bit differently, so a dataset written on another machine can differ in a few pixels and
so in its fingerprint. The
folder is built beside its destination and renamed into place, so a reader never sees half a
dataset; writing to a folder that already holds the same synthetic dataset does nothing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from generators.safe_io import new_folder_beside
from slbench.data.decode import check_pixel_count
from slbench.data.categories import CATEGORIES, GROUND_TRUTH_COLUMNS, ISIC2018_COUNTS
from slbench.data.synth_render import render_lesion_image
from slbench.data.workers import thread_map
from slbench.errors import SlbenchError

SYNTH_VERSION = 1
DEFAULT_TOTAL = 350
DEFAULT_IMAGE_SIZE = (200, 150)  # width, height: the 4:3 of ISIC images, as small as the real sample
MIN_PER_CLASS = 2
SECOND_VIEW_PROBABILITY = 0.12
JPEG_QUALITY = 90
MANIFEST = "SYNTHETIC.json"
INPUT_FOLDER = "ISIC2018_Task3_Training_Input"
GROUND_TRUTH = "ISIC2018_Task3_Training_GroundTruth.csv"
LESION_GROUPINGS = "ISIC2018_Task3_Training_LesionGroupings.csv"


@dataclass(frozen=True)
class PlannedImage:
    """One image to render: its id, class, lesion and which view of that lesion it is."""

    image_id: str
    category: str
    lesion_id: str
    lesion_seed: tuple[int, ...]
    view: int


def _largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    shares = {category: total * weight / sum(weights.values()) for category, weight in weights.items()}
    counts = {category: int(share) for category, share in shares.items()}
    by_remainder = sorted(weights, key=lambda c: (counts[c] - shares[c], CATEGORIES.index(c)))
    for category in by_remainder[: total - sum(counts.values())]:
        counts[category] += 1
    return counts


def class_counts(*, per_class: int | None = None, total: int | None = None, balanced: bool = False) -> dict[str, int]:
    """Images per class: ``per_class`` each, or ``total`` shared in ISIC 2018 (or equal) proportions."""
    if per_class is not None and total is not None:
        raise SlbenchError("give either --per-class or --total, not both")
    if per_class is not None:
        if per_class < 1:
            raise SlbenchError(f"--per-class must be at least 1, not {per_class}")
        return {category: per_class for category in CATEGORIES}
    total = DEFAULT_TOTAL if total is None else total
    if total < MIN_PER_CLASS * len(CATEGORIES):
        raise SlbenchError(
            f"--total must be at least {MIN_PER_CLASS * len(CATEGORIES)} so that every class has "
            f"{MIN_PER_CLASS} images, not {total}"
        )
    weights = {category: 1.0 if balanced else float(ISIC2018_COUNTS[category]) for category in CATEGORIES}
    counts = _largest_remainder(total, weights)
    for category in CATEGORIES:
        while counts[category] < MIN_PER_CLASS:
            counts[max(counts, key=counts.__getitem__)] -= 1
            counts[category] += 1
    return counts


def plan_images(counts: dict[str, int], seed: int) -> list[PlannedImage]:
    """Every image of the dataset, ids ``ISIC_0000000``... assigned in a seeded order that mixes the classes."""
    planned: list[tuple[str, tuple[int, ...], int, int]] = []
    for class_index, category in enumerate(CATEGORIES):
        rng = np.random.default_rng([seed, class_index])
        lesion, made = 0, 0
        while made < counts[category]:
            views = 2 if counts[category] - made >= 2 and rng.random() < SECOND_VIEW_PROBABILITY else 1
            planned.extend((category, (seed, class_index, lesion), view, lesion) for view in range(views))
            lesion, made = lesion + 1, made + views
    order = np.random.default_rng([seed, len(CATEGORIES)]).permutation(len(planned))
    lesion_ids: dict[tuple[int, ...], str] = {}
    images = []
    for number, index in enumerate(order):
        category, lesion_seed, view, _ = planned[index]
        lesion_id = lesion_ids.setdefault(lesion_seed, f"SYN_{len(lesion_ids):07d}")
        images.append(PlannedImage(f"ISIC_{number:07d}", category, lesion_id, lesion_seed, view))
    return images


def encode_jpeg(pixels: np.ndarray) -> bytes:
    """Baseline JPEG at :data:`JPEG_QUALITY`, 4:2:0, no EXIF or other metadata: deterministic bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=2, optimize=False)
    return buffer.getvalue()


def _ground_truth_csv(images: list[PlannedImage]) -> str:
    lines = ["image," + ",".join(GROUND_TRUTH_COLUMNS)]
    for image in images:
        cells = ("1.0" if column == image.category else "0.0" for column in GROUND_TRUTH_COLUMNS)
        lines.append(image.image_id + "," + ",".join(cells))
    return "\n".join(lines) + "\n"


def _lesion_csv(images: list[PlannedImage]) -> str:
    lines = ["image,lesion_id,diagnosis_confirm_type"]
    lines.extend(f"{image.image_id},{image.lesion_id},synthetic" for image in images)
    return "\n".join(lines) + "\n"


def _manifest(counts: dict[str, int], seed: int, image_size: tuple[int, int]) -> dict:
    return {
        "generator": "slbench built-in synthetic lesions",
        "version": SYNTH_VERSION,
        "seed": seed,
        "counts": counts,
        "image_size": list(image_size),
        "jpeg_quality": JPEG_QUALITY,
    }


def _write_into(folder: Path, images: list[PlannedImage], image_size: tuple[int, int], manifest: dict) -> None:
    inputs = folder / INPUT_FOLDER
    inputs.mkdir()
    width, height = image_size

    def write(image: PlannedImage) -> None:
        view_seed = [*image.lesion_seed, 1000 + image.view]
        pixels = render_lesion_image(width, height, image.category, list(image.lesion_seed), view_seed)
        (inputs / f"{image.image_id}.jpg").write_bytes(encode_jpeg(pixels))

    thread_map(write, images, description="Synthesising lesions")
    (folder / GROUND_TRUTH).write_text(_ground_truth_csv(images))
    (folder / LESION_GROUPINGS).write_text(_lesion_csv(images))
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def staging_prefix(name: str) -> str:
    """How the staging folder of a dataset being written as ``name`` begins: an interrupted write
    leaves it beside the folder asked for."""
    return f".{name}.new-"


def _existing_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SlbenchError(f"{out} is a file; give a folder for the synthetic dataset")
    if out.is_dir() and any(out.iterdir()) and _existing_manifest(out) is None:
        raise SlbenchError(f"{out} already holds other files; give an empty or new folder for the synthetic dataset")


def _move_into_place(staging: Path, out: Path) -> None:
    """Rename the finished folder to ``out``, replacing an earlier synthetic dataset there."""
    if out.is_dir() and any(out.iterdir()):
        retired = new_folder_beside(out.parent, f".{out.name}.old-")
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        if out.is_dir():
            out.rmdir()
        os.replace(staging, out)


def write_synthetic_dataset(
    out: str | Path,
    *,
    per_class: int | None = None,
    total: int | None = None,
    balanced: bool = False,
    seed: int = 0,
    image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
) -> Path:
    """Write the synthetic dataset to ``out`` (see module docstring) and return its path."""
    width, height = (int(side) for side in image_size)
    if min(width, height) < 16:
        raise SlbenchError(f"synthetic images must be at least 16 x 16 pixels, not {width} x {height}")
    try:
        check_pixel_count((width, height))  # larger images could not be read back
    except ValueError as err:
        raise SlbenchError(f"synthetic images of {err}; choose a smaller --size") from None
    if seed < 0:
        raise SlbenchError(f"--seed must be a whole number >= 0, not {seed}")
    counts = class_counts(per_class=per_class, total=total, balanced=balanced)
    out = Path(out).expanduser()
    manifest = _manifest(counts, seed, (width, height))
    _check_destination(out)
    if _existing_manifest(out) == manifest and (out / GROUND_TRUTH).is_file():
        return out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = new_folder_beside(out.parent, staging_prefix(out.name))
    except OSError as err:  # named by the folder asked for, not by the staging folder beside it
        raise SlbenchError(f"cannot write a dataset into {out} ({err.strerror or err}); choose a writable folder") from None
    try:
        _write_into(staging, plan_images(counts, seed), (width, height), manifest)
        _move_into_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
