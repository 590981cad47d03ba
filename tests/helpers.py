"""What many test modules share: where the project is, and a throwaway copy of the course."""
from pathlib import Path

from course.grading.semester import pipeline

ROOT = Path(__file__).resolve().parent.parent


def copy_course(destination: Path, assignments=None) -> Path:
    """The parts of the course nbgrader needs (config, each assignment's folder), copied under `destination`."""
    return pipeline.new_course(destination, assignments, ROOT)
