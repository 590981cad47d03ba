"""Set for every test: nbgrader shells out to `alembic`, so the venv's bin/ must lead PATH."""
import os
import sys
from pathlib import Path

os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
