"""The named feature extractors: ``inception`` (default), ``dinov2``, ``clip``, ``vgg16``,
``clip-vit-l-14-336``, ``dinov2-bicubic``, ``lesion``.

``inception`` is torch-fidelity's ``inception-v3-compat``, the TensorFlow FID Inception of
Heusel et al. (2017) ported bit-exactly; ``dinov2`` (DINOv2 ViT-L/14, Oquab et al. 2023; the FID
backbone Stein et al. 2023 recommend), ``clip`` (CLIP ViT-B/32, Radford et al. 2021; Kynkäänniemi
et al. 2023) and ``vgg16`` (Simonyan and Zisserman 2015; the precision/recall network of
Kynkäänniemi et al. 2019) are torch-fidelity's too, with its bilinear resize.
``clip-vit-l-14-336`` (CMMD's embedding) and ``dinov2-bicubic`` (FD-DINOv2 as dgm-eval computes
it) resize as their reference code does (:mod:`slbench.features.reference_nets`). ``lesion`` is slbench's own small CNN,
trained on the dataset being evaluated (:mod:`slbench.features.lesion`), so it works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from slbench.errors import SlbenchError
from slbench.features import fidelity_nets, lesion, reference_nets
from slbench.features.extractor import FeatureExtractor
from slbench.features.known_weights import KNOWN_WEIGHTS
from slbench.features.weights import (
    find_weights_file,
    hub_checkpoints_dir,
    load_known_weights,
    load_weights_for,
    trusted_paths,
)

DEFAULT_EXTRACTOR = "inception"
TORCH_FIDELITY_RESIZE = "bilinear-tf1"  # torch-fidelity's TensorFlow-1.x-compatible bilinear resize


@dataclass(frozen=True)
class ExtractorSpec:
    """What slbench knows about one extractor before loading it."""

    name: str
    dim: int  # of the published weights; a user-trusted variant may differ
    input_resolution: int | None  # None: set by the trained model (``lesion``)
    resize_filter: str
    description: str
    weights_key: str | None  # entry in KNOWN_WEIGHTS; None: slbench's own weights (``lesion``)
    build: Callable[[dict[str, torch.Tensor]], fidelity_nets.SingleFeature] | None


EXTRACTORS: dict[str, ExtractorSpec] = {
    spec.name: spec
    for spec in (
        ExtractorSpec(
            "inception", 2048, 299, TORCH_FIDELITY_RESIZE,
            "torch-fidelity inception-v3-compat pool3 (the FID standard)",
            "inception", fidelity_nets.build_inception,
        ),
        ExtractorSpec(
            "dinov2", 1024, 224, TORCH_FIDELITY_RESIZE,
            f"torch-fidelity {fidelity_nets.DINOV2_VARIANT} (needs the DINOv2 hub repo and --trust-weights)",
            "dinov2", fidelity_nets.build_dinov2,
        ),
        ExtractorSpec(
            "clip", 512, 224, TORCH_FIDELITY_RESIZE,
            f"torch-fidelity {fidelity_nets.CLIP_VARIANT} image embedding",
            "clip", fidelity_nets.build_clip,
        ),
        ExtractorSpec(
            "vgg16", 4096, 224, TORCH_FIDELITY_RESIZE,
            "torch-fidelity vgg16 fc2_relu",
            "vgg16", fidelity_nets.build_vgg16,
        ),
        ExtractorSpec(
            "clip-vit-l-14-336", 768, reference_nets.CMMD_RESOLUTION, reference_nets.CMMD_RESIZE_FILTER,
            "CLIP ViT-L/14 at 336 px, bicubic resize, as CMMD's reference (cmmd/embedding.py)",
            "clip-vit-l-14-336", reference_nets.build_cmmd_clip,
        ),
        ExtractorSpec(
            "dinov2-bicubic", 1024, reference_nets.DGM_EVAL_RESOLUTION, reference_nets.PIL_BICUBIC_FILTER,
            "DINOv2 ViT-L/14, Pillow bicubic resize to 224 px, as dgm-eval's FD-DINOv2 (needs --trust-weights)",
            "dinov2", reference_nets.build_dgm_eval_dinov2,
        ),
        ExtractorSpec(
            "lesion", lesion.EMBED_DIM, None, lesion.RESIZE_FILTER,
            "slbench's lesion-class CNN, trained on the dataset (offline)",
            None, None,
        ),
    )
}


def get_extractor(
    name: str = DEFAULT_EXTRACTOR,
    *,
    weights_dir: str | Path | None = None,
    trust_weights: str | Path | None = None,
    device: str | torch.device | None = None,
    data_fingerprint: str | None = None,
    resolution: int | None = None,
) -> FeatureExtractor:
    """The extractor called ``name``, its weights found, verified and loaded.

    ``lesion`` needs ``data_fingerprint`` (``Dataset.fingerprint()``) and optionally the
    ``resolution`` it was trained at; the others ignore both.
    """
    spec = EXTRACTORS.get(name)
    if spec is None:
        raise SlbenchError(f"unknown feature extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")
    if spec.weights_key is None:
        return lesion.load_lesion_extractor(
            data_fingerprint=data_fingerprint, resolution=resolution, weights_dir=weights_dir, device=device
        )
    known = KNOWN_WEIGHTS[spec.weights_key]
    trusted = trusted_paths(trust_weights)
    verified = None
    try:
        if len(trusted) > 1:  # several files: this network takes the one whose tensors it holds
            verified, network = load_weights_for(known, spec.build, weights_dir=weights_dir, trust_weights=trusted)
        else:  # one file (or none): it is this network's, and a misfit is an error
            verified = load_known_weights(known, weights_dir=weights_dir, trust_weights=trust_weights)
            network = spec.build(verified.state_dict)
    except (RuntimeError, KeyError, ValueError) as err:
        raise SlbenchError(
            f"weights file {verified.path if verified else known.file_name} does not fit the {name} network "
            f"({type(err).__name__}); use the published {known.file_name}"
        ) from err
    return FeatureExtractor(
        name=name,
        network=network,
        dim=network.dim,
        weights_sha256=verified.sha256,
        input_resolution=network.input_resolution,
        resize_filter=spec.resize_filter,
        trusted_by_user=verified.trusted_by_user,
        weights_path=verified.path,
        device=device,
    )


@dataclass(frozen=True)
class ExtractorStatus:
    """One row of ``slbench features list``."""

    name: str
    dim: int
    description: str
    file_name: str
    found: Path | None
    target: Path


def describe_extractors(weights_dir: str | Path | None = None) -> list[ExtractorStatus]:
    """Each extractor, its weights file, where it was found (if anywhere) and where it goes."""
    rows = []
    for spec in EXTRACTORS.values():
        if spec.weights_key is None:
            trained = lesion.trained_models()
            rows.append(ExtractorStatus(
                spec.name, spec.dim, spec.description,
                f"{len(trained)} trained" if trained else "none trained",
                trained[0] if trained else None, lesion.lesion_dir(),
            ))
            continue
        target = Path(weights_dir) if weights_dir else hub_checkpoints_dir()
        known = KNOWN_WEIGHTS[spec.weights_key]
        found = find_weights_file(known, weights_dir)
        rows.append(ExtractorStatus(spec.name, spec.dim, spec.description, known.file_name, found, target))
    return rows
