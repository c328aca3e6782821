"""The published weights files slbench admits, with the sha256 each must match.

A torch hub file name carries the leading hex digits of the file's sha256
(``alexnet-owt-7be5be79.pth``: the sha256 starts with ``7be5be79``); where the publisher gives
the full sha256 (OpenAI's CLIP URLs carry it; the lpips package ships its linear layers), the
full hash is kept. A file with no published hash (DINOv2's) is admitted only with
``--trust-weights``. Sources: torch-fidelity 0.4.0 (``feature_extractor_inceptionv3.URL_INCEPTION_V3``,
``feature_extractor_clip.MODEL_METADATA``), torchvision's ``AlexNet_Weights``/``VGG16_Weights``,
the DINOv2 repository's ``hubconf``, lpips 0.1.4's ``weights/v0.1/alex.pth``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownWeights:
    """One published weights file."""

    key: str  # slbench's name for the file
    file_name: str  # the name torch hub (or the publisher) stores it under
    sha256: str | None  # full sha256 or its published hex prefix; None when nothing is published
    url: str  # where to download it from
    other_names: tuple[str, ...] = ()  # the same file under another publisher's name

    @property
    def file_names(self) -> tuple[str, ...]:
        return (self.file_name, *self.other_names)


KNOWN_WEIGHTS: dict[str, KnownWeights] = {
    entry.key: entry
    for entry in (
        KnownWeights(
            key="inception",
            file_name="weights-inception-2015-12-05-6726825d.pth",
            sha256="6726825d",
            url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
            "weights-inception-2015-12-05-6726825d.pth",
        ),
        KnownWeights(
            key="vgg16",
            file_name="vgg16-397923af.pth",
            sha256="397923af",
            url="https://download.pytorch.org/models/vgg16-397923af.pth",
        ),
        KnownWeights(
            key="clip",
            file_name="clip-vit-b-32-40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af.pt",
            sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
            url="https://openaipublic.azureedge.net/clip/models/"
            "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
            other_names=("ViT-B-32.pt",),
        ),
        KnownWeights(
            key="clip-vit-l-14-336",
            file_name="clip-vit-l-14-336px-3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02.pt",
            sha256="3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
            url="https://openaipublic.azureedge.net/clip/models/"
            "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt",
            other_names=("ViT-L-14-336px.pt",),
        ),
        KnownWeights(
            key="dinov2",
            file_name="dinov2_vitl14_pretrain.pth",
            sha256=None,
            url="https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth",
        ),
        KnownWeights(
            key="alexnet",
            file_name="alexnet-owt-7be5be79.pth",
            sha256="7be5be79",
            url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        ),
        KnownWeights(
            key="lpips-alex-lin",
            file_name="alex.pth",
            sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
            url="https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth",
        ),
    )
}
