"""The one place that decides where files live and how long notebooks run.

Nothing here depends on the notebook's working directory: nbgrader runs each
submission from its own folder, so every path is anchored at the project.
"""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ASSIGNMENTS = (
    "01_convolution",
    "02_padding_stride",
    "03_pooling",
    "04_emnist_cnn",
    "05_training_loop",
    "06_regularization",
    "07_conv_backprop",
)


def data_root() -> Path:
    """`COURSE_DATA` if set, else the project's `data/` folder."""
    override = os.environ.get("COURSE_DATA")
    return Path(override).expanduser().resolve() if override else PROJECT_ROOT / "data"


def fast_mode() -> bool:
    """True in CI (`COURSE_FAST=1`) and while nbgrader grades or validates.

    Notebooks use it to train on a small slice for one short epoch, so that
    grading a class does not retrain every student's network in full.
    """
    flag = os.environ.get("COURSE_FAST", "").strip().lower()
    return flag in {"1", "true", "yes", "on"} or "NBGRADER_EXECUTION" in os.environ
