"""Hand-made results folders for the report tests: known values, tiny PNG artifacts."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image

from reports.results import write_results

QUALITY_DIRECTIONS = {
    "fid": False,
    "kid": False,
    "precision": True,
    "recall": True,
    "density": True,
    "coverage": True,
    "memorisation": False,
    "lpips_fake": True,
}

# model -> category -> metric -> value; sl-stylegan has the lowest FID, dcgan the best recall on MEL.
QUALITY_VALUES = {
    "sl-stylegan": {
        "MEL": {"fid": 21.5, "kid": 0.0123, "precision": 0.81, "recall": 0.42, "density": 1.02, "coverage": 0.77,
                "memorisation": 0.010, "lpips_fake": 0.41},
        "NV": {"fid": 30.25, "kid": 0.0201, "precision": 0.74, "recall": 0.38, "density": 0.93, "coverage": 0.70,
               "memorisation": 0.020, "lpips_fake": 0.39},
    },
    "stylegan": {
        "MEL": {"fid": 27.0, "kid": 0.0180, "precision": 0.77, "recall": 0.40, "density": 0.95, "coverage": 0.71,
                "memorisation": 0.015, "lpips_fake": 0.38},
        "NV": {"fid": 33.0, "kid": 0.0240, "precision": 0.76, "recall": 0.35, "density": 0.90, "coverage": 0.66,
               "memorisation": 0.030, "lpips_fake": 0.37},
    },
    "dcgan": {
        "MEL": {"fid": 64.0, "kid": 0.0610, "precision": 0.52, "recall": 0.55, "density": 0.61, "coverage": 0.48,
                "memorisation": 0.004, "lpips_fake": 0.45},
        "NV": {"fid": 71.0, "kid": 0.0702, "precision": 0.49, "recall": 0.21, "density": 0.55, "coverage": 0.41,
               "memorisation": 0.006, "lpips_fake": 0.44},
    },
}
N_REAL = {"MEL": 890, "NV": 5364}


def quality_row(model: str, category: str, metric: str, value: float, **overrides) -> dict:
    row = {
        "table": "quality",
        "model": model,
        "category": category,
        "metric": metric,
        "value": value,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "std": math.nan,
        "n_real": N_REAL.get(category, 100),
        "n_fake": 1000,
        "higher_is_better": QUALITY_DIRECTIONS.get(metric, True),
        "low_reliability": False,
        "features": "inception",
        "resolution": 256,
        "seed": 0,
        "step": 2000,
        "kimg": 32.0,
        "stage": "",
        "note": "",
    }
    row.update(overrides)
    return row


def quality_rows(models=("sl-stylegan", "stylegan", "dcgan"), categories=("MEL", "NV"), **overrides) -> list[dict]:
    rows = []
    for model in models:
        for category in categories:
            for metric, value in QUALITY_VALUES[model][category].items():
                extra = dict(overrides)
                if metric == "fid":
                    extra.setdefault("ci_low", value - 1.25)
                    extra.setdefault("ci_high", value + 1.25)
                if metric == "kid":
                    extra.setdefault("std", 0.002)
                    extra.setdefault("note", "KID subset size reduced to 890 (class size)" if category == "MEL" else "")
                rows.append(quality_row(model, category, metric, value, **extra))
    return rows


def utility_rows() -> list[dict]:
    """Three arms on a 3-class problem: balanced accuracy overall, sensitivity per class, a gain with p.

    ``n_real`` counts real test images (400 in all), ``n_fake`` the arm's synthetic training images.
    """
    base = {
        "table": "utility",
        "ci_low": math.nan,
        "ci_high": math.nan,
        "std": 0.01,
        "low_reliability": False,
        "features": "resnet18",
        "resolution": 64,
        "seed": 0,
        "step": None,
        "kimg": None,
        "stage": "",
        "note": "mean and std over seeds 0, 1, 2",
        "higher_is_better": True,
    }
    arms = {"real-only": (0.61, 0), "real+sl-stylegan": (0.66, 700), "synthetic-only:dcgan": (0.40, 700)}
    test_counts = {"MEL": 60, "NV": 300, "BCC": 40}
    rows = []
    for arm, (accuracy, n_fake) in arms.items():
        common = dict(base, model=arm, n_real=400, n_fake=n_fake)
        rows.append(dict(common, category="all", metric="balanced_accuracy", value=accuracy,
                         ci_low=accuracy - 0.02, ci_high=accuracy + 0.03))
        for offset, (category, count) in enumerate(test_counts.items()):
            rows.append(dict(common, category=category, metric="sensitivity", value=accuracy + 0.05 * (offset - 1),
                             n_real=count, n_fake=n_fake // 7))
        if arm != "real-only":
            rows.append(dict(common, category="all", metric="gain_balanced_accuracy", value=accuracy - 0.61,
                             note=f"paired Wilcoxon p={0.031 if arm.startswith('real+') else 0.002}"))
    return rows


def tiny_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (24, 16)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    image.putpixel((0, 0), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    image.save(path, format="PNG")
    return path


def write_run(folder: Path, rows: list[dict], *, artifacts: bool = True, settings: dict | None = None) -> Path:
    """A results folder through ``write_results``, with a sample grid, real grid and pairs per model/category."""
    recorded: dict[str, dict[str, str]] = {}
    if artifacts:
        recorded = {"samples": {}, "real": {}, "memorisation_pairs": {}}
        keys = sorted({(row["model"], row["category"]) for row in rows if row["table"] == "quality"})
        for index, (model, category) in enumerate(keys):
            shade = (40 + 30 * index) % 256
            recorded["samples"][f"{model}/{category}"] = f"samples/{model}/{category}.png"
            tiny_png(folder / "samples" / model / f"{category}.png", (shade, 90, 160))
            recorded["memorisation_pairs"][f"{model}/{category}"] = f"memorisation/{model}-{category}.png"
            tiny_png(folder / "memorisation" / f"{model}-{category}.png", (160, shade, 90), size=(48, 16))
            recorded["real"][category] = f"real/{category}.png"
            tiny_png(folder / "real" / f"{category}.png", (200, 150, shade))
    return write_results(
        folder,
        rows,
        settings=settings if settings is not None else {"features": "inception", "n_samples": 1000, "seed": 0},
        provenance={
            "packages": {"torch": "2.14.1", "numpy": "2.4.0"},
            "extractor": {"name": "inception", "weights_sha256": "ab" * 32},
            "data_fingerprint": "cd" * 32,
            "test_image_ids": [f"ISIC_{i:07d}" for i in range(30)],
        },
        artifacts=recorded,
    )
