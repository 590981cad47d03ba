"""Helpers for the CNN foundations course.

The notebooks teach; this package does the plumbing they share: where the
data lives (`paths`), loading it (`data`, `synthetic_xo`), friendly checks
(`checks`), pictures (`plots`), seeding and training loops (`training`),
and the instructor's pipeline (`pipeline`, `demo`).
"""

from .errors import install_notebook_handler

__version__ = "0.1.0"

install_notebook_handler()
