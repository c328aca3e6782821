"""Named evaluation protocols: one name pins every setting that makes two numbers comparable.

A FID is comparable with another only when both used the same feature network, the same resize
into it and the same number of generated images. StyleGAN2-ADA's ``metrics/metric_main.py``
makes that a name: ``fid50k_full`` is a registered function that fixes the sample count and the
reference set around a generic FID. slbench registers its protocols the same way, as small
functions that each return a :class:`Protocol`, validated when registered (a unique,
lower-case name; a known extractor whose own resize is the one the protocol states; known
metrics). ``slbench run --protocol NAME`` runs under one; every result row and the provenance
record the name and what it pins, and the reports never put two protocols in one column.

Options that contradict a protocol (another ``--features`` or ``--n-samples``) are refused
rather than silently overriding it: a number printed under a protocol's name must be what that
name promises. To change a pinned setting, run without ``--protocol``; the results then carry
no protocol name.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any, Callable

from slbench.errors import SlbenchError
from slbench.features.lesion import DEFAULT_RESOLUTION as LESION_RESOLUTION
from slbench.features.registry import EXTRACTORS, get_extractor
from slbench.metrics import DEFAULT_FEATURE_METRICS, FEATURE_METRICS

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Protocol:
    """What one protocol name pins."""

    name: str
    extractor: str  # a name in slbench.features.EXTRACTORS
    n_samples: int  # generated images per model and class
    input_resolution: int  # the size the extractor's network sees
    resize_filter: str  # the filter that resizes images to that size
    metrics: tuple[str, ...]  # feature metrics (slbench.metrics.FEATURE_METRICS)
    lpips: bool  # LPIPS diversity (needs AlexNet's weights)
    class_consistency: bool  # the lesion classifier's verdict on the samples
    description: str  # one line for listings and captions
    reference: str  # the code whose settings it follows

    def to_json(self) -> dict[str, Any]:
        """The pinned settings as ``metrics.json`` records them."""
        record = asdict(self)
        record["metrics"] = list(self.metrics)
        return record

    def check_extractor(self, extractor: Any) -> None:
        """Refuse an extractor whose network sees other sizes or filters than the protocol pins
        (a ``--trust-weights`` file built for another input size, say)."""
        found = (extractor.name, extractor.input_resolution, extractor.resize_filter)
        pinned = (self.extractor, self.input_resolution, self.resize_filter)
        if found != pinned:
            raise SlbenchError(
                f"protocol {self.name} needs the {self.extractor} extractor at {self.input_resolution} px "
                f"({self.resize_filter} resize); the loaded one is {found[0]} at {found[1]} px ({found[2]}): "
                "use the published weights, or run without --protocol"
            )


_PROTOCOLS: dict[str, Protocol] = {}
PROTOCOLS = MappingProxyType(_PROTOCOLS)
"""Every registered protocol by name, in registration order (read-only)."""


def register_protocol(define: Callable[[], Protocol]) -> Callable[[], Protocol]:
    """Register the protocol ``define()`` returns; refuses a bad or duplicate definition."""
    protocol = define()
    if not isinstance(protocol, Protocol):
        raise TypeError(f"{define.__name__} must return a Protocol, not {type(protocol).__name__}")
    if not NAME_PATTERN.match(protocol.name):
        raise ValueError(f"protocol name {protocol.name!r} must be lower-case words joined by '-'")
    if protocol.name in _PROTOCOLS:
        raise ValueError(f"protocol {protocol.name!r} registered twice")
    spec = EXTRACTORS.get(protocol.extractor)
    if spec is None:
        raise ValueError(f"protocol {protocol.name!r}: unknown extractor {protocol.extractor!r}")
    if spec.resize_filter != protocol.resize_filter or spec.input_resolution not in (None, protocol.input_resolution):
        raise ValueError(f"protocol {protocol.name!r}: the {spec.name} extractor does not resize as the protocol states")
    unknown = [name for name in protocol.metrics if name not in FEATURE_METRICS]
    if unknown or not protocol.metrics or protocol.n_samples < 1:
        raise ValueError(f"protocol {protocol.name!r}: needs known metrics and a positive sample count")
    _PROTOCOLS[protocol.name] = protocol
    return define


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``, or an error listing the valid names."""
    try:
        return _PROTOCOLS[name]
    except KeyError:
        raise SlbenchError(f"unknown protocol {name!r}; choose one of {', '.join(_PROTOCOLS)} "
                           "(`slbench protocols` lists what each pins)") from None


@dataclass(frozen=True)
class ResolvedSettings:
    """What a run uses once its protocol (if any) and its explicit options are combined."""

    protocol: Protocol | None
    features: str
    n_samples: int | None  # None: the default count per class (no protocol only)


def resolve_protocol(protocol: str | None, *, features: str | None, n_samples: int | None,
                     default_features: str) -> ResolvedSettings:
    """The run's protocol and settings; an explicit option that contradicts the protocol is an error."""
    if protocol is None:
        return ResolvedSettings(None, features or default_features, n_samples)
    pinned = get_protocol(protocol)
    contradictions = []
    if features is not None and features != pinned.extractor:
        contradictions.append(f"--features {features} (it pins {pinned.extractor})")
    if n_samples is not None and n_samples != pinned.n_samples:
        contradictions.append(f"--n-samples {n_samples} (it pins {pinned.n_samples})")
    if contradictions:
        raise SlbenchError(
            f"{' and '.join(contradictions)} contradict{'s' if len(contradictions) == 1 else ''} --protocol {pinned.name}; drop the option, "
            "or drop --protocol to run with settings of your own (the results then name no protocol)"
        )
    return ResolvedSettings(pinned, pinned.extractor, pinned.n_samples)


def load_extractor(features: str, protocol: Protocol | None, evaluation_resolution: int, **found: Any) -> Any:
    """The ``features`` extractor of a run under ``protocol`` (or none), loaded by
    :func:`~slbench.features.get_extractor` with ``found`` (weights, device, data fingerprint).

    A protocol pins the ``lesion`` extractor's trained size; otherwise the ``lesion`` extractor
    trained at the evaluation resolution is used (the other extractors have a fixed input size
    and ignore it). An extractor the protocol does not pin is refused
    (:meth:`Protocol.check_extractor`)."""
    pinned = protocol is not None and features == "lesion"
    extractor = get_extractor(features, resolution=protocol.input_resolution if pinned else evaluation_resolution,
                              **found)
    if protocol is not None:
        protocol.check_extractor(extractor)
    return extractor


def replayed_protocol(recorded: Any) -> Protocol | None:
    """The protocol a stored run or track names (``settings["protocol_settings"]``), checked
    against this slbench's definition so a replay pins exactly what the stored numbers used."""
    if not recorded:
        return None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("name"), str):
        raise SlbenchError(f"the baseline records an unreadable protocol ({recorded!r}); rerun it with --protocol")
    protocol = get_protocol(recorded["name"])
    if protocol.to_json() != recorded:
        differing = sorted(key for key, value in protocol.to_json().items() if recorded.get(key) != value)
        raise SlbenchError(f"protocol {protocol.name} pins other {', '.join(differing)} in this slbench than when "
                           "the baseline was run; rerun the baseline with this version")
    return protocol


GENERATED_PER_CLASS = 10_000  # StyleGAN2-ADA's fid10k count; ISIC's largest class (NV) has 6,705 images


@register_protocol
def inception_fid() -> Protocol:
    return Protocol(
        name="inception-fid", extractor="inception", n_samples=GENERATED_PER_CLASS,
        input_resolution=299, resize_filter=EXTRACTORS["inception"].resize_filter,
        metrics=("fid", "kid", "precision", "recall"), lpips=False, class_consistency=False,
        description="FID, KID and precision/recall on torch-fidelity's Inception (299 px, TF1 bilinear resize)",
        reference="torch-fidelity inception-v3-compat; StyleGAN2-ADA fid50k_full, kid50k_full, pr50k3_full",
    )


@register_protocol
def dinov2_fd() -> Protocol:
    return Protocol(
        name="dinov2-fd", extractor="dinov2-bicubic", n_samples=GENERATED_PER_CLASS,
        input_resolution=224, resize_filter=EXTRACTORS["dinov2-bicubic"].resize_filter,
        metrics=("fid", "kid", "precision", "recall", "density", "coverage"), lpips=False, class_consistency=False,
        description="FD-DINOv2 (the FID formula on DINOv2 ViT-L/14), KID, precision/recall, density/coverage; "
                    "Pillow bicubic resize to 224 px",
        reference="layer6ai-labs/dgm-eval (Stein et al. 2023), dgm_eval/models/dinov2.py",
    )


@register_protocol
def clip_cmmd() -> Protocol:
    return Protocol(
        name="clip-cmmd", extractor="clip-vit-l-14-336", n_samples=GENERATED_PER_CLASS,
        input_resolution=336, resize_filter=EXTRACTORS["clip-vit-l-14-336"].resize_filter,
        metrics=("cmmd",), lpips=False, class_consistency=False,
        description="CMMD on CLIP ViT-L/14 embeddings at 336 px (torch bicubic resize)",
        reference="google-research cmmd (Jayasumana et al. 2024), embedding.py and distance.py",
    )


@register_protocol
def lesion() -> Protocol:
    return Protocol(
        name="lesion", extractor="lesion", n_samples=2_000,
        input_resolution=LESION_RESOLUTION, resize_filter=EXTRACTORS["lesion"].resize_filter,
        metrics=DEFAULT_FEATURE_METRICS, lpips=False, class_consistency=True,
        description=f"every feature metric and class consistency in slbench's lesion space "
                    f"(the extractor trained at {LESION_RESOLUTION} px); offline",
        reference="slbench",
    )
