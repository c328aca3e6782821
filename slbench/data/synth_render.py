"""Procedural dermoscopy-like images: skin, the dermatoscope's vignette, one lesion, hairs.

Each ISIC 2018 class gets a :class:`LesionStyle` that follows the textbook dermoscopic picture
(e.g. Argenziano et al., "Dermoscopy of pigmented skin lesions", JAAD 2003; the ABCD rule of
Stolz et al., 1994) in a deliberately simplified form:

* MEL: large, asymmetric, irregular border, dark brown to black with blue-grey and
  red-brown areas;
* NV: round and symmetric, medium brown, even colour, fading border;
* BKL: tan to light brown, sharp "stuck-on" border, ridged (cerebriform) texture;
* BCC: pink and translucent, branching red vessels, a few blue-grey ovoid nests;
* AKIEC: red-pink, rough, with white scale;
* DF: small, light brown ring with a white scar-like centre;
* VASC: red to purple lobules with darker septa, sharp border.

Everything is computed on whole 3 x H x W colour planes with numpy (low-frequency noise is a small
random grid stretched bilinearly), so an image costs a few milliseconds.
A lesion's shape and colours come from its own seed; each *view* of it (the second image of
the same lesion) re-draws position, rotation, lighting, skin and hairs from another seed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class LesionStyle:
    """Per-class rules for one lesion (sizes in units of half the image's short side)."""

    radius: tuple[float, float]  # mean radius range
    elongation: tuple[float, float]  # ratio of the long to the short axis
    irregularity: float  # amplitude of the border's low harmonics (0 = circle)
    edge: float  # border softness, as a fraction of the radius
    palette: tuple[RGB, ...]  # first colour is the base; the others appear in patches
    patchiness: float  # weight of the secondary colours (0 = base colour only)
    texture: float  # amplitude of fine multiplicative texture
    texture_cells: int  # grid cells across the image for that texture
    ridges: float = 0.0  # cerebriform ridge contrast (BKL)
    centre: RGB | None = None  # colour of a central patch (DF's white scar)
    lobules: int = 0  # number of vascular lobules (VASC)
    vessels: int = 0  # number of branching vessels (BCC)
    scale: float = 0.0  # share of the surface under white scale (AKIEC)


STYLES: dict[str, LesionStyle] = {
    "MEL": LesionStyle(
        radius=(0.75, 1.0), elongation=(1.1, 1.5), irregularity=0.16, edge=0.05,
        palette=((0.26, 0.15, 0.10), (0.08, 0.05, 0.05), (0.36, 0.40, 0.52), (0.55, 0.28, 0.22)),
        patchiness=0.9, texture=0.25, texture_cells=24,
    ),
    "NV": LesionStyle(
        radius=(0.5, 0.7), elongation=(1.0, 1.15), irregularity=0.025, edge=0.12,
        palette=((0.50, 0.32, 0.20), (0.42, 0.26, 0.16)), patchiness=0.2, texture=0.06, texture_cells=16,
    ),
    "BKL": LesionStyle(
        radius=(0.55, 0.8), elongation=(1.1, 1.4), irregularity=0.07, edge=0.025,
        palette=((0.72, 0.55, 0.38), (0.58, 0.42, 0.28)), patchiness=0.4, texture=0.12, texture_cells=40,
        ridges=0.22,
    ),
    "BCC": LesionStyle(
        radius=(0.55, 0.8), elongation=(1.0, 1.3), irregularity=0.08, edge=0.15,
        palette=((0.90, 0.66, 0.66), (0.45, 0.50, 0.62)), patchiness=0.35, texture=0.05, texture_cells=20,
        vessels=5,
    ),
    "AKIEC": LesionStyle(
        radius=(0.6, 0.85), elongation=(1.1, 1.5), irregularity=0.1, edge=0.14,
        palette=((0.80, 0.38, 0.34), (0.68, 0.30, 0.28)), patchiness=0.4, texture=0.2, texture_cells=48,
        scale=0.15,
    ),
    "DF": LesionStyle(
        radius=(0.32, 0.45), elongation=(1.0, 1.2), irregularity=0.04, edge=0.18,
        palette=((0.62, 0.43, 0.32),), patchiness=0.0, texture=0.05, texture_cells=16,
        centre=(0.95, 0.90, 0.86),
    ),
    "VASC": LesionStyle(
        radius=(0.45, 0.65), elongation=(1.0, 1.3), irregularity=0.06, edge=0.03,
        palette=((0.66, 0.12, 0.26), (0.42, 0.08, 0.30)), patchiness=0.5, texture=0.05, texture_cells=16,
        lobules=7,
    ),
}

LIGHT_SKIN: RGB = (0.93, 0.77, 0.69)
DARK_SKIN: RGB = (0.76, 0.54, 0.42)
HAIR: RGB = (0.16, 0.11, 0.08)
VESSEL: RGB = (0.72, 0.08, 0.14)
SCALE: RGB = (0.96, 0.93, 0.88)


@functools.lru_cache(maxsize=64)
def _stretch_weights(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Left grid index and right-hand weight of each of ``size`` pixels spread over ``cells`` cells."""
    position = np.linspace(0.0, cells, size, dtype=np.float32)
    left = np.minimum(position.astype(np.intp), cells - 1)
    return left, (position - left)


def smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Height x width noise in [0, 1]: a random grid of about ``cells`` cells across, stretched bilinearly."""
    cells_x = max(1, cells)
    cells_y = max(1, round(cells * height / width))
    grid = rng.random((cells_y + 1, cells_x + 1), dtype=np.float32)
    left_y, weight_y = _stretch_weights(height, cells_y)
    rows = grid[left_y] * (1.0 - weight_y[:, None]) + grid[left_y + 1] * weight_y[:, None]
    left_x, weight_x = _stretch_weights(width, cells_x)
    return rows[:, left_x] * (1.0 - weight_x) + rows[:, left_x + 1] * weight_x


@dataclass(frozen=True)
class Canvas:
    """Pixel coordinates of one image size, centred and scaled by half the short side."""

    height: int
    width: int
    x: np.ndarray
    y: np.ndarray

    @classmethod
    @functools.lru_cache(maxsize=8)
    def of(cls, width: int, height: int) -> "Canvas":
        half = min(width, height) / 2.0
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        return cls(height, width, (x - (width - 1) / 2.0) / half, (y - (height - 1) / 2.0) / half)


def _planes(colour: RGB) -> np.ndarray:
    """An RGB colour shaped to broadcast over 3 x H x W planes."""
    return np.asarray(colour, dtype=np.float32)[:, None, None]


def _blend(base: np.ndarray, colour: RGB | np.ndarray, weight: np.ndarray) -> np.ndarray:
    """3 x H x W ``base`` moved towards ``colour`` by H x W ``weight``, in place (base is always a fresh array)."""
    target = colour if isinstance(colour, np.ndarray) else _planes(colour)
    base += (target - base) * weight
    return base


def _sigmoid(value: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(value, -30.0, 30.0)))


def _segment_distance(canvas: Canvas, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance of every pixel to the segment from ``start`` to ``end`` (canvas units)."""
    direction = end - start
    length2 = max(float(direction @ direction), 1e-8)
    t = np.clip(((canvas.x - start[0]) * direction[0] + (canvas.y - start[1]) * direction[1]) / length2, 0.0, 1.0)
    return np.hypot(canvas.x - (start[0] + t * direction[0]), canvas.y - (start[1] + t * direction[1]))


def skin(canvas: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Skin of a random tone with low-frequency unevenness and a faint pink flush."""
    tone = float(rng.uniform(0.0, 0.6))
    base = np.asarray(LIGHT_SKIN, np.float32) * (1 - tone) + np.asarray(DARK_SKIN, np.float32) * tone
    image = (0.94 + 0.1 * smooth_noise(rng, canvas.height, canvas.width, 3)) * _planes(base)
    flush = 0.25 * smooth_noise(rng, canvas.height, canvas.width, 4) ** 2
    return _blend(image, (0.85, 0.5, 0.5), flush)


def vignette(canvas: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Brightness factor of the dermatoscope: a lit disc fading to dark corners (absent in some images)."""
    if rng.random() < 0.2:
        return np.ones((canvas.height, canvas.width), np.float32)
    radius = float(rng.uniform(1.3, 1.55))
    distance = np.hypot(canvas.x, canvas.y)
    return 0.06 + 0.94 * _sigmoid((radius - distance) / 0.05)


def lesion_shape(
    canvas: Canvas, style: LesionStyle, shape_rng: np.random.Generator, view: dict[str, float]
) -> np.ndarray:
    """Normalised radius of every pixel (below 1 inside the lesion) for an irregular, elongated blob.

    The border is r(theta) = R (1 + sum_k a_k cos(k theta + phi_k)) for k = 2..6; cos(k theta)
    comes from powers of the unit complex number (u + iv) / |u + iv|, which avoids trigonometry
    per pixel.
    """
    elongation = float(shape_rng.uniform(*style.elongation))
    radius = float(shape_rng.uniform(*style.radius)) * view["zoom"]
    amplitudes = style.irregularity * 2.0 * shape_rng.standard_normal(5) / np.arange(2, 7)
    phases = np.exp(1j * shape_rng.uniform(0, 2 * np.pi, 5))
    cos_a, sin_a, stretch = math.cos(view["angle"]), math.sin(view["angle"]), math.sqrt(elongation)
    dx, dy = canvas.x - view["cx"], canvas.y - view["cy"]
    u = (dx * cos_a + dy * sin_a) / stretch
    v = (-dx * sin_a + dy * cos_a) * stretch
    rho = np.hypot(u, v)
    unit = (u + 1j * v).astype(np.complex64) / np.maximum(rho, 1e-6)
    power = unit
    boundary = np.ones_like(rho)
    for k in range(2, 7):
        power = power * unit
        boundary += np.float32(amplitudes[k - 2]) * (power * np.complex64(phases[k - 2])).real
    return rho / (radius * np.maximum(boundary, 0.3))


def lesion_colour(
    canvas: Canvas, style: LesionStyle, distance: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The lesion's colour at every pixel: base, patches of the other palette colours, centre, texture."""
    h, w = canvas.height, canvas.width
    colour = np.empty((3, h, w), np.float32)
    colour[:] = _planes(style.palette[0])
    for extra in style.palette[1:]:
        patches = _sigmoid((smooth_noise(rng, h, w, 5) - float(rng.uniform(0.45, 0.6))) / 0.06)
        colour = _blend(colour, extra, style.patchiness * patches)
    if style.centre is not None:
        colour = _blend(colour, style.centre, np.exp(-((distance / float(rng.uniform(0.35, 0.5))) ** 2)))
    shade = 0.9 + 0.1 * np.clip(distance, 0, 1)  # slightly darker towards the centre
    if style.ridges:
        shade *= 1.0 - style.ridges * (np.sin(28.0 * smooth_noise(rng, h, w, 6)) * 0.5 + 0.5)
    shade *= 1.0 + style.texture * 2.0 * (smooth_noise(rng, h, w, style.texture_cells) - 0.5)
    colour *= shade
    return colour


def add_lobules(
    canvas: Canvas, colour: np.ndarray, style: LesionStyle, rng: np.random.Generator, view: dict[str, float]
) -> np.ndarray:
    """Red-purple lobules separated by darker septa (vascular lesions)."""
    field = np.zeros((canvas.height, canvas.width), np.float32)
    for _ in range(style.lobules):
        cx, cy = view["cx"] + float(rng.normal(0, 0.2)), view["cy"] + float(rng.normal(0, 0.2))
        spread = float(rng.uniform(0.01, 0.03))
        field = np.maximum(field, np.exp(-((canvas.x - cx) ** 2 + (canvas.y - cy) ** 2) / spread))
    return _blend(colour, (0.25, 0.03, 0.18), 0.6 * (1.0 - field))


def add_vessels(
    canvas: Canvas, colour: np.ndarray, style: LesionStyle, rng: np.random.Generator, view: dict[str, float]
) -> np.ndarray:
    """Branching (arborising) red vessels: each trunk forks once."""
    width = 0.012 + 0.01 * float(rng.random())
    strength = np.zeros((canvas.height, canvas.width), np.float32)
    for _ in range(style.vessels):
        start = np.array([view["cx"], view["cy"]], np.float32) + rng.normal(0, 0.25, 2).astype(np.float32)
        fork = start + rng.normal(0, 0.2, 2).astype(np.float32)
        for end in (fork + rng.normal(0, 0.15, 2).astype(np.float32), fork + rng.normal(0, 0.15, 2).astype(np.float32)):
            strength = np.maximum(strength, np.exp(-((_segment_distance(canvas, fork, end) / width) ** 2)))
        strength = np.maximum(strength, np.exp(-((_segment_distance(canvas, start, fork) / width) ** 2)))
    return _blend(colour, VESSEL, 0.85 * strength)


def add_scale(canvas: Canvas, colour: np.ndarray, style: LesionStyle, rng: np.random.Generator) -> np.ndarray:
    """White keratin scale: speckles where fine noise exceeds a threshold set by the scale share."""
    speckle = smooth_noise(rng, canvas.height, canvas.width, 60)
    return _blend(colour, SCALE, _sigmoid((speckle - (1.0 - style.scale)) / 0.03))


def add_hairs(canvas: Canvas, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zero to three thin dark hairs crossing the field."""
    for _ in range(rng.choice(4, p=(0.6, 0.2, 0.12, 0.08))):
        start = rng.uniform(-1.5, 1.5, 2).astype(np.float32)
        end = rng.uniform(-1.5, 1.5, 2).astype(np.float32)
        line = np.exp(-((_segment_distance(canvas, start, end) / float(rng.uniform(0.008, 0.014))) ** 2))
        image = _blend(image, HAIR, 0.9 * line)
    return image


def draw_view(rng: np.random.Generator) -> dict[str, float]:
    """How a lesion is seen in one image: position, rotation and zoom (plain floats keep arrays float32)."""
    return {
        "cx": float(rng.normal(0.0, 0.08)),
        "cy": float(rng.normal(0.0, 0.08)),
        "angle": float(rng.uniform(0.0, 2 * np.pi)),
        "zoom": float(rng.uniform(0.92, 1.08)),
    }


def render_lesion_image(
    width: int, height: int, category: str, lesion_seed: list[int], view_seed: list[int]
) -> np.ndarray:
    """Height x width x 3 uint8 image of one view of one lesion of ``category``."""
    style = STYLES[category]
    canvas = Canvas.of(width, height)
    view_rng = np.random.default_rng(view_seed)
    view = draw_view(view_rng)
    distance = lesion_shape(canvas, style, np.random.default_rng(lesion_seed), view)
    colour_rng = np.random.default_rng([*lesion_seed, 1])
    colour = lesion_colour(canvas, style, distance, colour_rng)
    if style.lobules:
        colour = add_lobules(canvas, colour, style, colour_rng, view)
    if style.vessels:
        colour = add_vessels(canvas, colour, style, colour_rng, view)
    if style.scale:
        colour = add_scale(canvas, colour, style, colour_rng)
    mask = _sigmoid((1.0 - distance) / style.edge)
    image = _blend(skin(canvas, view_rng), colour, mask)
    image = add_hairs(canvas, image, view_rng)
    image *= 255.0 * vignette(canvas, view_rng)
    image += 0.5  # round to nearest
    return np.clip(image, 0, 255, out=image).transpose(1, 2, 0).astype(np.uint8, order="C")
