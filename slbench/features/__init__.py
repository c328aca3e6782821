"""Feature extractors by name, their verified weights, the feature cache and LPIPS.

``get_extractor(name)`` returns a :class:`~slbench.features.extractor.FeatureExtractor` whose
``extract(images_uint8)`` gives one float64 feature row per image; ``cached_features`` computes
them once per image content, extractor and settings; ``load_lpips`` builds LPIPS (AlexNet).
"""

from slbench.features.cache import cached_features
from slbench.features.extractor import FeatureExtractor
from slbench.features.lpips_net import load_lpips
from slbench.features.registry import DEFAULT_EXTRACTOR, EXTRACTORS, get_extractor

__all__ = ["DEFAULT_EXTRACTOR", "EXTRACTORS", "FeatureExtractor", "cached_features", "get_extractor", "load_lpips"]
