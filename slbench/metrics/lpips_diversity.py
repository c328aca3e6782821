"""LPIPS diversity: the mean LPIPS distance (Zhang et al. 2018, "The Unreasonable Effectiveness of
Deep Features as a Perceptual Metric"; the ``lpips`` package, AlexNet, v0.1) between random
pairs of distinct images of one set.

Computed for the generated images and for the real images of a class, the ratio
generated/real shows mode collapse as a value well below 1 (the generator's images look alike
more than the class's real images do). This is the diversity measure used for conditional and
multi-modal GANs (e.g. Zhu et al. 2017, BicycleGAN; Huang et al. 2018, MUNIT).

Pairs: ``pairs`` distinct unordered pairs (i, j), i != j, drawn uniformly without replacement
with ``numpy.random.default_rng(seed)``; when the set has no more than ``pairs`` pairs, every
pair is used once. Images are float N x 3 x H x W in [0, 1] (uint8 is divided by 255) and are
mapped to [-1, 1], the range LPIPS expects.

Speed: for an ``lpips.LPIPS`` network (non-spatial, with linear layers) the backbone features of
each distinct image are computed once, in batches, and every pair's distance is formed from
them with the network's own normalisation, linear layers and spatial mean, the same operations
as ``LPIPS.forward``; images are held in groups that fit ``cache_bytes``. Any other module with
LPIPS's call signature ``net(x, y) -> N x 1 x 1 x 1`` is called on batches of pairs.
"""

from __future__ import annotations

import lpips
import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import check_positive_int, resolve_device
from slbench.metrics.registry import MetricValue, metric_value

DEFAULT_PAIRS = 1000
DEFAULT_CACHE_BYTES = 512 * 2**20


def pair_count(n: int, pairs: int) -> int:
    """How many pairs :func:`lpips_diversity` averages over for a set of ``n`` images."""
    return min(pairs, n * (n - 1) // 2)


def sample_pairs(n: int, pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct unordered pairs (first < second), uniformly without replacement, in sorted order."""
    total = n * (n - 1) // 2
    if pairs >= total:
        first, second = np.triu_indices(n, k=1)
        return first.astype(np.int64), second.astype(np.int64)
    ranks = np.sort(np.random.default_rng(seed).choice(total, pairs, replace=False))
    return _unrank_pairs(ranks, n)


def _pairs_before(i: np.ndarray, n: int) -> np.ndarray:
    """How many pairs (a, b), a < b, have a < i, in lexicographic order."""
    return i * (2 * n - i - 1) // 2


def _unrank_pairs(ranks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The pair at each lexicographic rank among all pairs (i, j), i < j < n."""
    b = 2 * n - 1
    first = np.floor((b - np.sqrt(b * b - 8.0 * ranks)) / 2.0).astype(np.int64)
    first = np.clip(first, 0, n - 2)
    first += _pairs_before(first + 1, n) <= ranks  # correct a floor that fell one short
    first -= _pairs_before(first, n) > ranks  # or one too far
    second = ranks - _pairs_before(first, n) + first + 1
    return first, second


def _as_images(images) -> torch.Tensor:
    tensor = torch.as_tensor(images)
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise SlbenchError(f"LPIPS diversity needs images shaped N x 3 x H x W; got {tuple(tensor.shape)}")
    if tensor.shape[0] < 2:
        raise SlbenchError(f"LPIPS diversity needs at least 2 images to form a pair; got {tensor.shape[0]}")
    if tensor.dtype == torch.uint8:
        return tensor.float() / 255.0
    if not tensor.is_floating_point():
        raise SlbenchError(f"LPIPS diversity needs float images in [0, 1] or uint8; got {tensor.dtype}")
    low, high = float(tensor.min()), float(tensor.max())
    if not (np.isfinite(low) and np.isfinite(high)) or low < 0.0 or high > 1.0:
        raise SlbenchError(f"LPIPS diversity needs images in [0, 1]; got values from {low:g} to {high:g}")
    return tensor.float()


def _uses_lpips_layers(net: torch.nn.Module) -> bool:
    return isinstance(net, lpips.LPIPS) and net.lpips and not net.spatial


def _layer_features(net: lpips.LPIPS, images: torch.Tensor) -> list[torch.Tensor]:
    """Unit-normalised backbone features of images in [0, 1], as ``LPIPS.forward`` forms them."""
    x = images * 2.0 - 1.0
    if net.version == "0.1":
        x = net.scaling_layer(x)
    return [lpips.normalize_tensor(out) for out in net.net.forward(x)]


def _pair_distances(net: lpips.LPIPS, first: list[torch.Tensor], second: list[torch.Tensor]) -> torch.Tensor:
    total = 0
    for layer, (a, b) in enumerate(zip(first, second)):
        total = total + lpips.spatial_average(net.lins[layer]((a - b) ** 2), keepdim=True)
    return total.flatten()


def _group_pairs(first: np.ndarray, second: np.ndarray, capacity: int) -> list[tuple[slice, np.ndarray]]:
    """Consecutive runs of pairs whose distinct images number at most ``capacity`` (at least 2)."""
    groups, start, members = [], 0, set()
    for p, (i, j) in enumerate(zip(first.tolist(), second.tolist())):
        if members and len(members) + (i not in members) + (j not in members) > capacity:
            groups.append((slice(start, p), np.array(sorted(members))))
            start, members = p, set()
        members.update((i, j))
    groups.append((slice(start, len(first)), np.array(sorted(members))))
    return groups


def _member_features(net, images, members: np.ndarray, batch_size: int, device) -> list[torch.Tensor]:
    """Every layer's normalised features of the images ``members``, computed in batches."""
    features: list[torch.Tensor] = []
    for start in range(0, len(members), batch_size):
        batch = _layer_features(net, images[members[start : start + batch_size]].to(device))
        if not features:
            features = [torch.empty((len(members), *f.shape[1:]), dtype=f.dtype, device=device) for f in batch]
        for stored, computed in zip(features, batch):
            stored[start : start + len(computed)] = computed
    return features


def _scores_from_features(net, images, first, second, batch_size, device, cache_bytes) -> torch.Tensor:
    probe = _layer_features(net, images[:1].to(device))
    capacity = max(2, cache_bytes // sum(t.numel() * t.element_size() for t in probe))
    scores = []
    for pair_span, members in _group_pairs(first, second, capacity):
        features = _member_features(net, images, members, batch_size, device)
        rows_a = torch.as_tensor(np.searchsorted(members, first[pair_span]), device=device)
        rows_b = torch.as_tensor(np.searchsorted(members, second[pair_span]), device=device)
        for start in range(0, len(rows_a), batch_size):
            pick_a, pick_b = rows_a[start : start + batch_size], rows_b[start : start + batch_size]
            scores.append(_pair_distances(net, [f[pick_a] for f in features], [f[pick_b] for f in features]))
    return torch.cat(scores)


def _scores_by_call(net, images, first, second, batch_size, device) -> torch.Tensor:
    scores = []
    for s in range(0, len(first), batch_size):
        x = images[first[s : s + batch_size]].to(device) * 2.0 - 1.0
        y = images[second[s : s + batch_size]].to(device) * 2.0 - 1.0
        scores.append(net(x, y).flatten())
    return torch.cat(scores)


def lpips_diversity(
    images,
    *,
    pairs: int = DEFAULT_PAIRS,
    seed: int = 0,
    net: torch.nn.Module | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
) -> float:
    """Mean LPIPS over random distinct pairs of ``images`` (float N x 3 x H x W in [0, 1]).

    ``net`` defaults to :func:`slbench.features.load_lpips` (AlexNet, verified weights); it is
    put in eval mode. ``device`` defaults to the network's own device.
    """
    pairs = check_positive_int(pairs, "LPIPS pairs")
    batch_size = check_positive_int(batch_size, "LPIPS batch size")
    images = _as_images(images)
    if net is None:
        from slbench.features import load_lpips

        net = load_lpips().to(resolve_device(device))
    params = next(net.parameters(), None)
    dev = torch.device(device) if device is not None else (params.device if params is not None else torch.device("cpu"))
    net.eval()
    first, second = sample_pairs(images.shape[0], pairs, seed)
    with torch.inference_mode():
        if _uses_lpips_layers(net):
            scores = _scores_from_features(net, images, first, second, batch_size, dev, cache_bytes)
        else:
            scores = _scores_by_call(net, images, first, second, batch_size, dev)
    return float(scores.double().mean())


def lpips_metric_values(
    lpips_fake: float, lpips_real: float, *, n_real: int, n_fake: int, pairs: int = DEFAULT_PAIRS
) -> list[MetricValue]:
    """The ``lpips_fake``, ``lpips_real`` and ``lpips_ratio`` results of one (model, category) pair."""
    fake_note = f"mean over {pair_count(n_fake, pairs)} random pairs of generated images"
    real_note = f"mean over {pair_count(n_real, pairs)} random pairs of real images"
    ratio = lpips_fake / lpips_real if lpips_real > 0 else float("nan")
    ratio_note = "generated over real; well below 1 signals mode collapse"
    if lpips_real <= 0:
        ratio_note = "undefined: the real images have zero LPIPS diversity"
    return [
        metric_value("lpips_fake", lpips_fake, n_real=n_real, n_fake=n_fake, note=fake_note),
        metric_value("lpips_real", lpips_real, n_real=n_real, n_fake=n_fake, note=real_note),
        metric_value("lpips_ratio", ratio, n_real=n_real, n_fake=n_fake, note=ratio_note),
    ]
