"""Natural grayscale images for stage-1 pretraining, from a folder or from installed packages.

The paper pretrains on DIV2K, which cannot be downloaded here. Offline substitutes: the images
bundled in the scikit-image wheel (``skimage/data``) and matplotlib's sample data
(``grace_hopper.jpg``), converted to grayscale in [0, 1].
"""

from __future__ import annotations

import glob
import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
# Bundled scikit-image images that are photographs or textures (binary/synthetic ones skipped).
SKIMAGE_NAMES = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "microaneurysms.png",
    "moon.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
    "color.png",
    "clock_motion.png",
)


def installed_image_paths() -> list[str]:
    """Paths of the natural images shipped by installed scikit-image and matplotlib."""
    paths: list[str] = []
    try:
        import skimage

        folder = os.path.join(os.path.dirname(skimage.__file__), "data")
        paths += [
            os.path.join(folder, n)
            for n in SKIMAGE_NAMES
            if os.path.exists(os.path.join(folder, n))
        ]
    except ImportError:
        pass
    for folder in ("/usr/share/matplotlib/mpl-data/sample_data",):
        p = os.path.join(folder, "grace_hopper.jpg")
        if os.path.exists(p):
            paths.append(p)
    return paths


def folder_image_paths(folder: str) -> list[str]:
    """Image files directly inside ``folder``."""
    return sorted(
        p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith(IMAGE_EXTENSIONS)
    )


def load_gray(path: str) -> np.ndarray:
    """An image as float32 grayscale in [0, 1] (RGB by ITU-R 601 luma)."""
    from skimage import io

    img = np.asarray(io.imread(path)).astype(np.float32)
    if img.ndim == 3:
        img = (
            img[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            if img.shape[-1] >= 3
            else img[..., 0]
        )
    peak = 255.0 if img.max() > 1.0 else 1.0
    if img.max() > 255.0:
        peak = float(img.max())
    return img / peak
