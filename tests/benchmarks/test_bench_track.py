"""Cost of a track: `slbench track` over S saved steps against S separate `slbench run` calls.

Run with `make bench`. A DCGAN trained on MEL of the built-in synthetic data (32 px, a checkpoint
every 2 steps, S = 4 kept), the `lesion` extractor, N = 200 generated images per step. The
track prepares the data, the extractor, LPIPS and the real side once and then costs one
generator pass, its features and the metrics per step; each separate run repeats the set-up
(its real features come from the feature cache after the first) and writes its own reports.
``extra_info`` holds both times and their ratio.
"""

from __future__ import annotations

import shutil
import time

import pytest

from slbench.evaluation import run_evaluation
from slbench.tracking import track_folder
from evaluation_builders import dcgan_run_with_lesion_extractor

STEPS, N_FAKE = 8, 200
SETTINGS = ("ngf=8", "ndf=8", "batch_size=8", "snapshot_every=2", "keep_last=10")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_dataset):
    return dcgan_run_with_lesion_extractor(tmp_path_factory.mktemp("bench-track"), synthetic_dataset, steps=STEPS,
                                           settings=SETTINGS)


def separate_runs(trained, out) -> None:
    """One `slbench run` per saved step, each on a folder holding only that checkpoint."""
    for weights in sorted(trained["checkpoints"].glob("step-*.safetensors")):
        checkpoints = out / weights.stem / "checkpoints" / "dcgan" / "MEL"
        checkpoints.mkdir(parents=True)
        for suffix in (".safetensors", ".json"):
            shutil.copy2(weights.with_suffix(suffix), checkpoints / weights.with_suffix(suffix).name)
        (checkpoints / "latest").write_text(weights.stem + "\n")
        run_evaluation(data=trained["data"], models="dcgan", categories="MEL", checkpoints=checkpoints.parents[1],
                       n_samples=N_FAKE, features="lesion", out=out / weights.stem / "results",
                       weights_dir=trained["weights_dir"], device="cpu")


def test_track_against_separate_runs(benchmark, trained, tmp_path, monkeypatch):
    monkeypatch.setenv("SLBENCH_CACHE", str(trained["root"] / "cache"))
    started = time.perf_counter()
    separate_runs(trained, tmp_path / "runs")
    runs_seconds = time.perf_counter() - started
    rounds: list[float] = []

    def track_once():
        out = tmp_path / f"track-{len(rounds)}"
        start = time.perf_counter()
        track_folder(trained["checkpoints"], out=out, features="lesion", n_samples=N_FAKE,
                     weights_dir=trained["weights_dir"], device="cpu")
        rounds.append(time.perf_counter() - start)

    benchmark.pedantic(track_once, rounds=2, iterations=1)
    steps = len(list(trained["checkpoints"].glob("step-*.safetensors")))
    benchmark.extra_info.update(steps=steps, n_fake=N_FAKE, track_seconds=round(min(rounds), 2),
                                separate_runs_seconds=round(runs_seconds, 2),
                                runs_over_track=round(runs_seconds / min(rounds), 2))
