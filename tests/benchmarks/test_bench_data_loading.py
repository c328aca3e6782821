"""Images per second, loading 600x450 JPEGs to 256 x 256: slbench's loader against a naive Pillow loop.

Run with ``make bench``. The files are the real ISIC sample (or, without it, the synthetic
lesions) upscaled to the 600x450 of the full ISIC 2018 images, with a little seeded grain, saved
at JPEG quality 95. Four ways over the same files, in the same run:

* naive: ``Image.open(p).convert("RGB").resize((256, 256))`` one file after another;
* decode: ``load_images(..., cache=False)`` (thread pool, torch resize, draft mode where it applies);
* cold: ``load_images`` on an empty cache (hashing, decoding and writing the cache entry);
* cached: ``load_images`` again (hashing and reading the entry).

Targets: cold at least 2x naive, cached at least 20x naive. The ratios are printed at the end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from slbench.data import ImageRecord, load_images
from slbench.data.synth import write_synthetic_dataset

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "isic-sample"
IMAGE_COUNT = 64
RESOLUTION = 256
ROUNDS = 5
TARGETS = {"cold": 2.0, "cached": 20.0}


def source_images(folder: Path) -> list[Path]:
    """The real ISIC sample where it is present (200x150), else the built-in synthetic lesions."""
    sample = SHARED_DATA / "ISIC2018_Task3_Training_Input"
    if sample.is_dir():
        return sorted(sample.glob("*.jpg"))[:IMAGE_COUNT]
    root = write_synthetic_dataset(folder / "lesions", total=IMAGE_COUNT, balanced=True, image_size=(200, 150))
    return sorted((root / "ISIC2018_Task3_Training_Input").glob("*.jpg"))


@pytest.fixture(scope="module")
def jpeg_records(tmp_path_factory) -> list[ImageRecord]:
    """600x450 JPEGs like the full-size ISIC 2018 images: upscaled, with seeded grain so they are not unduly smooth."""
    folder = tmp_path_factory.mktemp("bench")
    rng = np.random.default_rng(0)
    records = []
    for index, source in enumerate(source_images(folder)):
        pixels = np.asarray(Image.open(source).convert("RGB").resize((600, 450), Image.Resampling.BICUBIC), float)
        grainy = np.clip(pixels + rng.normal(0.0, 4.0, pixels.shape), 0, 255).astype(np.uint8)
        path = folder / f"ISIC_{index:07d}.jpg"
        Image.fromarray(grainy).save(path, quality=95)
        records.append(ImageRecord(path=path, image_id=path.stem, category="NV"))
    return records


@pytest.fixture(scope="module")
def timings(request):
    """Best seconds per pass of each way (the least disturbed by other load), reported with the speed-ups."""
    found: dict[str, float] = {}
    yield found
    if "naive" not in found:
        return
    lines = [f"data loading, {IMAGE_COUNT} JPEGs 600x450 -> {RESOLUTION}x{RESOLUTION}, best of {ROUNDS} rounds:"]
    for way, seconds in found.items():
        target = f" (target >= {TARGETS[way]:.0f}x)" if way in TARGETS else ""
        speed_up = found["naive"] / seconds
        lines.append(f"  {way:7s} {IMAGE_COUNT / seconds:9.0f} images/s  {speed_up:6.1f}x naive{target}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.write_line("\n" + "\n".join(lines))


def naive_loop(records: list[ImageRecord]) -> list[np.ndarray]:
    return [np.asarray(Image.open(r.path).convert("RGB").resize((RESOLUTION, RESOLUTION))) for r in records]


def _record(benchmark, timings, way: str) -> None:
    if benchmark.stats is not None:
        timings[way] = benchmark.stats.stats.min
        benchmark.extra_info["images_per_second"] = IMAGE_COUNT / timings[way]


def test_naive_pillow_loop(benchmark, jpeg_records, timings):
    images = benchmark.pedantic(naive_loop, args=(jpeg_records,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert len(images) == IMAGE_COUNT and images[0].shape == (RESOLUTION, RESOLUTION, 3)
    _record(benchmark, timings, "naive")


def test_decode_without_cache(benchmark, jpeg_records, timings):
    images = benchmark.pedantic(
        load_images, args=(jpeg_records, RESOLUTION), kwargs={"cache": False}, rounds=ROUNDS, iterations=1,
        warmup_rounds=1,
    )
    assert images.shape == (IMAGE_COUNT, 3, RESOLUTION, RESOLUTION)
    _record(benchmark, timings, "decode")


def test_cold_load_into_an_empty_cache(benchmark, jpeg_records, timings, tmp_path, monkeypatch):
    rounds = iter(range(10 * ROUNDS))

    def empty_cache():
        monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / f"cache-{next(rounds)}"))

    images = benchmark.pedantic(
        load_images, args=(jpeg_records, RESOLUTION), setup=empty_cache, rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    assert images.shape == (IMAGE_COUNT, 3, RESOLUTION, RESOLUTION)
    _record(benchmark, timings, "cold")


def test_cached_load(benchmark, jpeg_records, timings):
    expected = load_images(jpeg_records, RESOLUTION)
    images = benchmark.pedantic(
        load_images, args=(jpeg_records, RESOLUTION), rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    assert np.array_equal(images.numpy(), expected.numpy())
    _record(benchmark, timings, "cached")
