"""The data layer: ISIC 2018 / HAM10000 / folder datasets, lesion-grouped splits, cached image loading.

``load_dataset`` recognises the layout and lists usable images per category with their
problems; ``split_by_lesion`` makes a seeded train/test split that keeps each lesion on one
side; ``load_images`` turns records into an N x 3 x R x R uint8 tensor through a content-keyed
cache; :mod:`slbench.data.synth` writes the built-in synthetic dataset.
"""

from slbench.data.categories import CATEGORIES, FULL_NAMES, ISIC2018_COUNTS, parse_category
from slbench.data.dataset import Dataset, load_dataset
from slbench.data.decode import RESIZE_FILTER, RESIZE_MODES
from slbench.data.layouts import LAYOUTS
from slbench.data.loader import load_category, load_images, training_batches
from slbench.data.records import ImageRecord, Problem, ProblemKind
from slbench.data.split import DataSplit, split_by_lesion

__all__ = [
    "CATEGORIES",
    "FULL_NAMES",
    "ISIC2018_COUNTS",
    "LAYOUTS",
    "RESIZE_FILTER",
    "RESIZE_MODES",
    "DataSplit",
    "Dataset",
    "ImageRecord",
    "Problem",
    "ProblemKind",
    "load_category",
    "load_dataset",
    "load_images",
    "parse_category",
    "split_by_lesion",
    "training_batches",
]
