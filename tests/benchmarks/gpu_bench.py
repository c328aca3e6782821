"""GPU figures for `slbench run` in one short script, for a machine with a CUDA device.

    python tests/benchmarks/gpu_bench.py --out gpu-bench.json            # on the GPU machine
    python tests/benchmarks/gpu_bench.py --tiny --device cpu --out x.json  # the same steps, tiny, on CPU
    python tests/benchmarks/gpu_bench.py --skip-run --out t.json            # without the full run (4.)

1. Generation and Inception extraction at ``--resolution`` (256) px for each model: images per
   second for each stage and for both in sequence, as ``run`` does them. Extraction is set
   against its compute floor: Inception-v3 costs about 11.5 GFLOP per 299 px image (torch-fidelity
   resizes every input to 299), so ``--peak-tflops`` (default 67, an H100/H200's dense float32
   without tensor cores) allows at most ``peak / 11.5 GFLOP`` images per second; the script
   prints the share of that reached. PyTorch lets cuDNN use TF32 for convolutions by default,
   so the share can exceed 1 against the float32 peak; the TF32 setting is recorded.
2. The metric suite (every default feature metric) on ``--metric-n`` x ``--metric-n`` x
   ``--metric-dim`` (10,000 x 10,000 x 2,048) random features on the GPU and on the CPU, with
   the largest relative difference of FID, KID and precision between the two.
3. Training: each model for ``--train-kimg`` (4) k images at ``--resolution`` on the melanoma
   images of the built-in data at full size (10,015 images in ISIC 2018 proportions, 200 x 150;
   at most ``--train-images`` of them), once with bf16 autocast and once with fp16 autocast and
   its dynamic loss scale, at the
   model's own batch (SL-StyleGAN 16, DCGAN 128, StyleGAN the official 1-GPU minibatch of the
   resolution, 8 at 256 px, trained at that resolution from the start; ``--train-batch`` sets one
   for all): seconds per k images over the steps after the first progress window (cuDNN's
   autotuning and the first allocations stay out), and peak GPU memory. StyleGAN2-ADA's
   published single-GPU speed at 256 px is the reference: 21.6 s/kimg on a V100 (the low end of
   21.6-24.2 in the stylegan2-ada-pytorch README, ``--cfg=auto``, batch 16, 5.0 GB) and
   12.5 s/kimg on an A100; the JSON holds each model's ratio to both.
4. ``run --models all --category all`` on that data: MEL evaluated on the bf16 checkpoints
   step 3 trained (freshly initialised ones where training is skipped), every other class on
   freshly initialised checkpoints at ``--resolution``: wall time and the seconds per stage.

The networks are freshly initialised (Inception too, from torch-fidelity's architecture,
admitted with ``--trust-weights``): nothing is downloaded, and the speed of a network does not
depend on its weights. LPIPS is skipped in the run without AlexNet's weights (the run records
why). The figures are written to ``--out`` as JSON after every step (so a run stopped by a time
limit keeps the steps it finished) and printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))  # the tests' stand-in weights and builders

from evaluation_builders import save_generator_checkpoint  # noqa: E402
from features_stand_ins import random_inception_state  # noqa: E402
from generators import MODELS, build_generator  # noqa: E402
from slbench.data.synth import write_synthetic_dataset  # noqa: E402
from slbench.evaluation.samples import resize_uint8, to_uint8  # noqa: E402
from slbench.features import get_extractor  # noqa: E402
from slbench.metrics import MetricSettings, run_evaluation  # noqa: E402
from slbench.metrics.registry import DEFAULT_FEATURE_METRICS  # noqa: E402

INCEPTION_GFLOP = 11.5  # per 299 x 299 image, forward pass
STYLEGAN2_ADA_S_PER_KIMG_256 = {"V100": 21.6, "A100": 12.5}  # one GPU, 256 px
TRAIN_PRECISIONS = ("bf16", "fp16")
TRAIN_CATEGORY = "MEL"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(action, device: torch.device) -> tuple[object, float]:
    synchronize(device)
    start = time.perf_counter()
    result = action()
    synchronize(device)
    return result, time.perf_counter() - start


def inception(weights: Path, device: torch.device):
    if not weights.is_file():
        torch.save(random_inception_state(), weights)
    return get_extractor("inception", trust_weights=weights, device=device)


def generation_and_extraction(args, device: torch.device, weights: Path) -> dict:
    """Images per second of each model's generator and of Inception at ``args.resolution`` px."""
    extractor = inception(weights, device)
    extractor.extract(torch.zeros((2, 3, args.resolution, args.resolution), dtype=torch.uint8), batch_size=2)
    figures = {}
    for model in MODELS:
        generator = build_generator(model, args.resolution).to(device).eval()
        with torch.no_grad():
            generator.sample(2, seed=0, device=device, batch_size=args.batch)  # first-call costs

            def generate():
                images = generator.sample(args.images, seed=1, device=device, batch_size=args.batch)
                return resize_uint8(to_uint8(images), args.resolution)

            images, generate_s = timed(generate, device)
        _, extract_s = timed(lambda: extractor.extract(images, batch_size=args.batch), device)
        extract_rate = args.images / extract_s
        floor_rate = args.peak_tflops * 1e3 / INCEPTION_GFLOP
        figures[model] = {
            "generate_images_per_s": args.images / generate_s,
            "extract_images_per_s": extract_rate,
            "generate_and_extract_images_per_s": args.images / (generate_s + extract_s),
            "extract_tflops_achieved": extract_rate * INCEPTION_GFLOP / 1e3,
            "extract_share_of_float32_floor": extract_rate / floor_rate,
        }
        del generator
    return figures


def metric_suite(args, device: torch.device) -> dict:
    """The metric suite on the device and on the CPU, on the same random features."""
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((args.metric_dim, args.metric_dim)) / np.sqrt(args.metric_dim)
    real = rng.standard_normal((args.metric_n, args.metric_dim)) @ mixing
    fake = 0.95 * rng.standard_normal((args.metric_n, args.metric_dim)) @ mixing + 0.02
    settings = MetricSettings(metrics=DEFAULT_FEATURE_METRICS, seed=0)
    figures, values = {}, {}
    for where in dict.fromkeys([device, torch.device("cpu")]):
        evaluation, seconds = timed(lambda: run_evaluation(real, fake, settings=settings, device=where), where)
        figures[f"{where.type}_s"] = seconds
        values[where.type] = {v.metric: v.value for v in evaluation.values}
    if len(values) == 2:
        figures["max_relative_difference"] = {
            name: abs(values["cuda"][name] - values["cpu"][name]) / max(abs(values["cpu"][name]), 1e-300)
            for name in ("fid", "kid", "precision", "recall", "coverage")}
        figures["speed_up"] = figures["cpu_s"] / figures["cuda_s"]
    figures["shape"] = [args.metric_n, args.metric_n, args.metric_dim]
    return figures


def full_run(args, device: torch.device, weights: Path, root: Path, data: Path) -> dict:
    """``run --models all --category all`` on the built-in data: MEL on the checkpoints training
    left in ``root/train/<model>/bf16`` where it ran, every other checkpoint freshly initialised."""
    from reports.results import load_results
    from slbench.data import CATEGORIES
    from slbench.evaluation import runner

    categories = CATEGORIES if args.run_category == "all" else args.run_category.split(",")
    trained = []
    for model in MODELS:
        for category in categories:
            trained_folder = root / "train" / model / "bf16"
            if category == TRAIN_CATEGORY and trained_folder.is_dir():
                shutil.copytree(trained_folder, root / "checkpoints" / model / category)
                trained.append(f"{model}/{category}")
            else:
                save_generator_checkpoint(root / "checkpoints", model, category, resolution=args.resolution)
    options = dict(data=data, models="all", categories=args.run_category, checkpoints=root / "checkpoints",
                   features="inception", trust_weights=weights,
                   n_samples=args.run_n_samples, out=root / "results", batch=args.batch, device=device)
    out, seconds = timed(lambda: runner.run_evaluation(**options), device)
    provenance = load_results(out).provenance
    stages: dict[str, float] = {}
    for pair in provenance["pairs"].values():
        for stage, value in pair["timings_s"].items():
            stages[stage] = stages.get(stage, 0.0) + value
    for side in provenance["real_sides"].values():
        for stage, value in side["timings_s"].items():
            stages[f"real_{stage}"] = stages.get(f"real_{stage}", 0.0) + value
    return {"images": args.run_total, "run_s": seconds, "stages_s": stages, "pairs": len(provenance["pairs"]),
            "trained_checkpoints": trained}


class WindowTimes:
    """A training reporter that keeps the images per second of each progress window."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def start(self, *, start_step: int, total_steps: int) -> None:
        pass

    def update(self, step: int, stats) -> None:
        if "img/s" in stats:
            self.rates.append(stats["img/s"])

    def note(self, message: str) -> None:
        pass


def training_speed(args, device: torch.device, root: Path, data_folder: Path) -> dict:
    """Seconds per k images and peak memory of each model's training on the built-in melanoma
    images, bf16 and fp16 + loss scale; the checkpoints stay in ``root/train/<model>/<precision>``."""
    from generators.training import TrainingData, TrainingRun, plan_run, train
    from slbench.data import load_dataset, load_images

    dataset = load_dataset(data_folder)
    images = load_images(dataset.records(TRAIN_CATEGORY)[:args.train_images], args.resolution)
    data = TrainingData(images=images, category=TRAIN_CATEGORY, fingerprint=dataset.fingerprint())
    figures = {}
    for model in MODELS:
        for amp in TRAIN_PRECISIONS:
            overrides = {"amp": amp, "snapshot_every": "1000000", "log_every": str(args.train_log_every)}
            if model == "stylegan":
                overrides["progressive"] = "false"
            if args.train_fmap_max is not None:
                overrides["fmap_max"] = str(args.train_fmap_max)
            plan = plan_run(TrainingRun(model=model, category=TRAIN_CATEGORY, out_dir=root / "train" / model / amp,
                                        resolution=args.resolution, kimg=args.train_kimg,
                                        batch_size=args.train_batch, overrides=overrides, device=device.type))
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            reporter = WindowTimes()
            result, seconds = timed(lambda: train(plan, data, reporter=reporter), device)
            steady = reporter.rates[1:] or reporter.rates
            rate = len(steady) / sum(1.0 / r for r in steady)  # images per second over equal-step windows
            s_per_kimg = 1000.0 / rate
            figures[f"{model}/{amp}"] = {
                "s_per_kimg": s_per_kimg,
                "wall_s": seconds,
                "kimg": result.images_seen / 1000.0,
                "real_images": len(images),
                "batch": result.images_seen // max(result.step, 1),
                "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
                "precision_active": amp if device.type == "cuda" else "off",
                "x_stylegan2_ada": {gpu: s_per_kimg / ref for gpu, ref in STYLEGAN2_ADA_S_PER_KIMG_256.items()},
            }
    return figures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--images", type=int, default=512, help="images per model for the throughput figures")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--peak-tflops", type=float, default=67.0)
    parser.add_argument("--metric-n", type=int, default=10_000)
    parser.add_argument("--metric-dim", type=int, default=2048)
    parser.add_argument("--run-total", type=int, default=10_015)
    parser.add_argument("--run-category", default="all")
    parser.add_argument("--run-n-samples", type=int, default=None)
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--train-kimg", type=float, default=4.0, help="k images per training measurement")
    parser.add_argument("--train-batch", type=int, default=None, help="one batch for every model (default: each one's)")
    parser.add_argument("--train-images", type=int, default=1024, help="at most this many melanoma training images")
    parser.add_argument("--train-log-every", type=int, default=10, help="steps per timing window")
    parser.add_argument("--train-fmap-max", type=int, default=None,
                        help="cap every model's feature maps in the training measurement (default: published widths)")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: proves the script, measures nothing")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")) / "gpu-bench.json")
    args = parser.parse_args(argv)
    if args.tiny:
        args.resolution, args.images, args.batch, args.metric_n, args.metric_dim = 32, 8, 8, 300, 64
        args.run_total, args.run_category, args.run_n_samples = 600, "MEL,BKL", 16
        args.train_kimg, args.train_batch, args.train_images, args.train_log_every = 0.048, 8, 16, 2
        args.train_fmap_max = 16
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SLBENCH_CACHE"] = str(root / "cache")
        os.environ["TORCH_HOME"] = str(root / "torch-home")  # no AlexNet: LPIPS is skipped, and says so
        weights = root / "inception-random.pth"
        figures = {
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "cpu_threads": torch.get_num_threads(),
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "resolution": args.resolution,
        }
        data, figures["synth_s"] = timed(lambda: write_synthetic_dataset(root / "data", total=args.run_total, seed=0),
                                         device)
        steps = {"generation_and_extraction": lambda: generation_and_extraction(args, device, weights),
                 "metric_suite": lambda: metric_suite(args, device)}
        if not args.skip_training:
            steps["training"] = lambda: training_speed(args, device, root, data)
        if not args.skip_run:
            steps["run_all"] = lambda: full_run(args, device, weights, root, data)
        for name, step in steps.items():
            figures[name] = step()
            write_figures(args.out, figures)
    print(json.dumps(figures, indent=2))
    return figures


def write_figures(out: Path, figures: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
