"""slbench: evaluation suite for GANs that synthesise dermoscopic skin-lesion images.

The harness: data layer, feature extractors, metrics, runs, regression checks and the CLI.
Models and their training live in :mod:`generators`; rendering of stored results in :mod:`reports`.
"""

__version__ = "0.1.0"
