"""An offline stand-in for EMNIST's X and O letters.

EMNIST cannot be downloaded everywhere, so when its files are missing the
course draws handwritten-looking X's and O's instead. Each letter is a few
pen strokes with a random slant, size, position, rotation, thickness, wobble
and blur; a few percent are sloppy (short arms, squashed or open O's, a stray
stroke) so that a linear model cannot reach 100%. The images are returned in
EMNIST's raw orientation (transposed), with EMNIST's letter labels (X = 24,
O = 15), so they travel through exactly the same code as the real files.
Everything is seeded: the same call always gives the same pixels.
"""
import numpy as np
from scipy.ndimage import gaussian_filter

LABEL_X = 24
LABEL_O = 15
TRAIN_PER_CLASS = 4800
TEST_PER_CLASS = 800
SIZE = 28

_ys, _xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
_GRID = np.stack([_xs.ravel(), _ys.ravel()], axis=1)


def _distance_to_polyline(points: np.ndarray) -> np.ndarray:
    """Distance from every pixel centre to the nearest segment of a stroke."""
    a, b = points[:-1], points[1:]
    ab = b - a
    ap = _GRID[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((_GRID[:, None, :] - nearest) ** 2).sum(-1)).min(axis=1)


def _x_strokes(rng, w, h, sloppy):
    reach = rng.uniform(0.35, 0.6) if sloppy else 1.0
    strokes = []
    for sign in (1.0, -1.0):
        start = np.array([-sign * w, -h]) + rng.normal(0, 1.2, 2)
        end = np.array([sign * w, h]) * reach + rng.normal(0, 1.2, 2)
        middle = (start + end) / 2 + rng.normal(0, 0.9, 2)
        strokes.append(np.stack([start, middle, end]))
    return strokes


def _o_strokes(rng, w, h, sloppy):
    if sloppy:
        w *= rng.uniform(0.2, 0.4)
    gap = rng.uniform(0.6, 1.6) if sloppy or rng.random() < 0.15 else rng.uniform(-0.4, 0.1)
    start = rng.uniform(0, 2 * np.pi)
    t = np.linspace(start, start + 2 * np.pi - gap, 28)
    wobble = 1 + rng.uniform(0, 0.12) * np.sin(rng.integers(2, 4) * t + rng.uniform(0, 2 * np.pi))
    return [np.stack([w * wobble * np.cos(t), h * wobble * np.sin(t)], axis=1)]


def _draw(rng, letter: str) -> np.ndarray:
    sloppy = rng.random() < 0.04
    h = rng.uniform(6.5, 10.5)
    w = h * rng.uniform(0.55, 1.05)
    strokes = _x_strokes(rng, w, h, sloppy) if letter == "X" else _o_strokes(rng, w, h, sloppy)
    if sloppy and rng.random() < 0.5:
        strokes.append(rng.uniform(-9, 9, (2, 2)))
    angle = np.deg2rad(rng.normal(0, 8))
    slant = rng.uniform(-0.35, 0.35)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([SIZE / 2, SIZE / 2]) + rng.normal(0, 1.3, 2)
    radius = rng.uniform(0.9, 2.1)
    distance = np.full(SIZE * SIZE, np.inf)
    for stroke in strokes:
        pts = stroke @ rotate.T
        pts[:, 0] += slant * pts[:, 1]
        distance = np.minimum(distance, _distance_to_polyline(pts + centre))
    ink = np.clip(radius + 0.5 - distance, 0.0, 1.0).reshape(SIZE, SIZE)
    ink = gaussian_filter(ink, sigma=rng.uniform(0.4, 1.0))
    ink = ink / max(ink.max(), 1e-6) * rng.uniform(0.85, 1.0)
    ink = np.clip(ink + rng.normal(0, 0.02, ink.shape), 0.0, 1.0)
    return (ink * 255).round().astype(np.uint8)


def make_xo(train: bool, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 in EMNIST's transposed orientation, and labels 24/15.

    Classes alternate X, O, X, O, ... so any prefix is balanced.
    """
    per_class = per_class or (TRAIN_PER_CLASS if train else TEST_PER_CLASS)
    rng = np.random.default_rng(20240 if train else 20241)
    images = np.empty((2 * per_class, SIZE, SIZE), dtype=np.uint8)
    labels = np.empty(2 * per_class, dtype=np.int64)
    for i in range(2 * per_class):
        letter = "X" if i % 2 == 0 else "O"
        images[i] = _draw(rng, letter).T
        labels[i] = LABEL_X if letter == "X" else LABEL_O
    return images, labels
