"""What many test modules share: where the project is, and a throwaway copy of the course."""
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_course(destination: Path, assignments=None) -> Path:
    """The parts of the course nbgrader needs (config, each assignment's folder), copied under `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", destination / "nbgrader_config.py")
    for name in assignments or [p.name for p in (ROOT / "source").iterdir() if p.is_dir()]:
        shutil.copytree(ROOT / "source" / name, destination / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return destination
