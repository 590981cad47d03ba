"""Helpers for the CNN foundations course: what the notebooks import.

The notebooks teach; this package does the plumbing they share: where the
data lives (`paths`), loading it (`data`, `synthetic_xo`), friendly checks
(`checks`), pictures (`plots`, `explorers`), networks (`models`, `xo_reference`),
seeding and training loops (`training`, `augment`). The grader lives in
`course.grading` and the instructor's commands in `course.commands`; nothing
here imports either.
"""

from .errors import install_notebook_handler

__version__ = "0.1.0"

install_notebook_handler()
