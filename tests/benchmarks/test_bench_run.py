"""`slbench run` end to end on CPU at 32 px: wall time per stage, and 2 gloo ranks against 1 process.

The data is the built-in synthetic set in ISIC 2018 proportions (``slbench data synth --total``;
10,015 images by default, ``SLBENCH_BENCH_TOTAL`` to change it), its images 64 x 48 so that
writing them stays within minutes; one model (DCGAN, small, freshly initialised: generation
costs the same as a trained one's) per class, ``--category all``, the ``lesion`` extractor
trained for one epoch on the data, LPIPS on a stand-in AlexNet of the real architecture. Every
process uses one thread, so 2 ranks against 1 process is the same work on twice the cores.
Figures land in pytest-benchmark's ``extra_info`` (and are printed); the machine's load
average before and after is recorded beside them, since a shared machine skews them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, train_tiny_lesion_extractor
from reports.render import render_report
from sharding_support import run_ranks
from slbench.data import CATEGORIES
from slbench.data.synth import write_synthetic_dataset
from slbench.evaluation import runner

TOTAL = int(os.environ.get("SLBENCH_BENCH_TOTAL", "10015"))
RESOLUTION = 32
MODEL = "dcgan"
MEASURED: dict[str, object] = {}  # the single-process run, for the sharded comparison


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(root / "setup-cache"))
        data = write_synthetic_dataset(root / "data", total=TOTAL, seed=0, image_size=(64, 48))
        for category in CATEGORIES:
            save_generator_checkpoint(root / "checkpoints", MODEL, category, resolution=RESOLUTION)
        (root / "lesion").mkdir()
        train_tiny_lesion_extractor(data, root / "lesion", resolution=RESOLUTION, epochs=1)
    return root, data


@pytest.fixture
def bench_env(monkeypatch):
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield monkeypatch
    torch.set_num_threads(saved)


def _options(root: Path, data: Path, out: Path) -> dict:
    return dict(data=data, models=MODEL, categories="all", checkpoints=root / "checkpoints", features="lesion",
                weights_dir=root / "lesion", out=out, seed=0, batch=64, device="cpu", report_formats=("csv",))


def stage_seconds(out: Path) -> dict[str, float]:
    """Seconds per stage summed over the classes, from the run's provenance."""
    from reports.results import load_results

    provenance = load_results(out).provenance
    real = [side["timings_s"] for side in provenance["real_sides"].values()]
    pairs = [pair["timings_s"] for pair in provenance["pairs"].values()]
    total = lambda items, key: round(sum(item.get(key, 0.0) for item in items), 2)  # noqa: E731
    return {"decode": total(real, "decode"), "generate": total(pairs, "generate"),
            "extract": round(total(real, "features") + total(pairs, "features"), 2),
            "metrics": total(pairs, "metrics"),
            "lpips": round(total(real, "lpips") + total(pairs, "lpips"), 2),
            "class_consistency": total(pairs, "class_consistency")}


def test_run_all_categories_one_model_per_stage(workspace, bench_env, benchmark):
    root, data = workspace
    bench_env.setenv("SLBENCH_CACHE", str(root / "single-cache"))
    load_before = os.getloadavg()
    out = benchmark.pedantic(runner.run_evaluation, kwargs=_options(root, data, root / "single"), rounds=1,
                             iterations=1)
    start = time.perf_counter()
    render_report(out)
    stages = stage_seconds(out) | {"reports": round(time.perf_counter() - start, 2)}
    MEASURED.update(out=out, seconds=benchmark.stats.stats.mean)
    benchmark.extra_info.update(images=TOTAL, stages_s=stages, load_before=load_before, load_after=os.getloadavg())
    print(f"\n{TOTAL} images, {RESOLUTION} px, {MODEL}, lesion: {benchmark.stats.stats.mean:.1f} s; stages {stages}; "
          f"load {load_before} -> {os.getloadavg()}")


def test_two_gloo_ranks_against_one_process(workspace, bench_env, benchmark):
    root, data = workspace
    if "out" not in MEASURED:
        bench_env.setenv("SLBENCH_CACHE", str(root / "single-cache"))
        start = time.perf_counter()
        MEASURED.update(out=runner.run_evaluation(**_options(root, data, root / "single")),
                        seconds=time.perf_counter() - start)
    bench_env.setenv("SLBENCH_CACHE", str(root / "sharded-cache"))  # the ranks extract the real sides themselves
    load_before = os.getloadavg()
    outcomes, seconds = benchmark.pedantic(run_ranks, args=(_options(root, data, root / "sharded"), root / "reports"),
                                           rounds=1, iterations=1)
    assert [o["outcome"] for o in outcomes] == ["finished", "finished"]
    single = Path(MEASURED["out"])
    assert (root / "sharded" / "metrics.csv").read_bytes() == (single / "metrics.csv").read_bytes()
    speed_up = float(MEASURED["seconds"]) / seconds
    benchmark.extra_info.update(images=TOTAL, single_s=MEASURED["seconds"], sharded_s=seconds, speed_up=speed_up,
                                metrics_csv_identical=True, load_before=load_before, load_after=os.getloadavg())
    print(f"\n1 process {float(MEASURED['seconds']):.1f} s, 2 gloo ranks {seconds:.1f} s: speed-up {speed_up:.2f}, "
          f"identical metrics.csv; load {load_before} -> {os.getloadavg()}")
