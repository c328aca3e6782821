"""``slbench generate``: N images from a checkpoint as PNG files, plus a grid.

The images are the ones ``slbench run`` evaluates for the same checkpoint, N and seed (before
its resize to the evaluation resolution): they are drawn in the same fixed chunks with the
same per-chunk seeds (:mod:`slbench.evaluation.samples`), so ``--batch`` changes the speed and
memory, never the pixels. Files are named ``seed<S>-<index>.png`` and written atomically;
``generate.json`` records where they came from. It is written first, marked incomplete, so a
folder always says what it holds: ``--out`` takes a new or empty folder, or one holding an
earlier (or interrupted) generation of the same checkpoint, seed and number, which is written
again; anything else is refused, so the images of two checkpoints never mix.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from generators.checkpoint import growth_stage_text
from generators.safe_io import atomic_write_json
from generators.training.distributed import select_device
from generators.training.images import image_grid, write_png
from slbench.console import console, make_progress, plain
from slbench.data.workers import worker_count
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import load_generator, read_checkpoint_info
from slbench.evaluation.samples import GENERATION_CHUNK, chunk_seed, to_uint8
from slbench.paths import GENERATE_JSON

GRID_IMAGES = 64  # the first images, tiled 8 x 8 in grid.png


def check_output_folder(out: Path, record: dict) -> None:
    """Refuse an ``--out`` that holds anything but a generation of the same checkpoint, seed and number."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SlbenchError(f"--out {out} is a file, not a folder; give a new or empty folder")
    if not any(out.iterdir()):
        return
    try:
        earlier = json.loads((out / GENERATE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = None
    if not isinstance(earlier, dict):
        raise SlbenchError(f"--out {out} already holds files that `slbench generate` did not write; "
                           "give a new or empty folder")
    if any(earlier.get(key) != record[key] for key in ("weights_sha256", "seed", "n")):
        raise SlbenchError(f"--out {out} holds {earlier.get('n')} images of another checkpoint, seed or number "
                           f"({earlier.get('model')} step {earlier.get('step')}, seed {earlier.get('seed')}); "
                           "give a new or empty folder so the two sets do not mix")


def image_name(seed: int, index: int) -> str:
    """The file name of image ``index`` generated with ``seed``."""
    return f"seed{seed}-{index:06d}.png"


def generate_images(*, checkpoint: Path, n: int, out: Path, seed: int = 0, batch: int = 64,
                    device: str = "auto") -> list[Path]:
    """Write ``n`` images of the checkpoint's generator into ``out``; returns their paths."""
    if n < 1 or batch < 1:
        raise SlbenchError(f"--n and --batch must be at least 1, got {n} and {batch}")
    if seed < 0:
        raise SlbenchError(f"--seed must be a whole number >= 0, not {seed}")
    try:
        target = select_device(device)
    except ValueError as err:
        raise SlbenchError(str(err)) from None
    info = read_checkpoint_info(checkpoint)
    weights, metadata = info.path, info.metadata
    generator = load_generator(info, target)  # loading checks the weights file against the metadata's sha256
    out = Path(out)
    record = {
        "checkpoint": str(weights), "weights_sha256": metadata["weights_sha256"], "model": metadata.get("model"),
        "category": metadata.get("category"), "step": metadata.get("step"), "resolution": metadata.get("resolution"),
        "stage": growth_stage_text(metadata), "seed": seed, "n": n, "chunk": GENERATION_CHUNK,
        "files": f"{image_name(seed, 0)} ... {image_name(seed, n - 1)}",
    }
    check_output_folder(out, record)
    atomic_write_json(out / GENERATE_JSON, record | {"complete": False})
    paths: list[Path] = []
    grid: list[torch.Tensor] = []
    with make_progress() as progress, ThreadPoolExecutor(max_workers=worker_count()) as pool:
        task = progress.add_task(f"Generating {metadata.get('model', '')} images", total=n)
        for chunk, start in enumerate(range(0, n, GENERATION_CHUNK)):
            count = min(GENERATION_CHUNK, n - start)
            images = to_uint8(generator.sample(count, seed=chunk_seed(seed, chunk), device=target, batch_size=batch))
            names = [out / image_name(seed, start + offset) for offset in range(count)]
            paths += list(pool.map(write_png, names, images))
            grid += list(images[: max(0, GRID_IMAGES - len(grid))])
            progress.update(task, advance=count)
    write_png(out / "grid.png", image_grid(torch.stack(grid)))
    atomic_write_json(out / GENERATE_JSON, record | {"complete": True})
    stage = record["stage"]
    if stage:
        console.print(f"the checkpoint was saved before its network finished growing: sampled at {stage}, "
                      f"upscaled to {metadata.get('resolution')} px", highlight=False)
    console.print(f"wrote {n} images and grid.png to {plain(out)}", highlight=False)
    return paths
