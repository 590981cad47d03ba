"""Where the course gradebook lives: SQLite beside the course, or a shared server named by COURSE_DB_URL.

nbgrader takes any SQLAlchemy URL. One laptop grading alone is well served by
the default `gradebook.db`; several instructors and TAs grading one course at
once need a server, and PostgreSQL is the one this course is tested against:
`COURSE_DB_URL=postgresql://user:password@host:5432/course make autograde`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

ENV_DB_URL = "COURSE_DB_URL"


def db_url(root: Path) -> str:
    """COURSE_DB_URL when set, else the SQLite gradebook in the course folder `root`."""
    return os.environ.get(ENV_DB_URL, "").strip() or f"sqlite:///{Path(root) / 'gradebook.db'}"


def is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] == "sqlite"


def exists(root: Path) -> bool:
    """Whether the course's gradebook is there: a server always counts, a SQLite file only once made.

    (Opening a missing SQLite gradebook would make an empty one, which a read-only command must not.)"""
    url = db_url(root)
    return not is_sqlite(url) or Path(url.split(":///", 1)[-1]).is_file()


def shown(url: str) -> str:
    """The URL as messages may print it: without its password."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def engine(url: str):
    """An SQLAlchemy engine, with a message that names the fix when the server's driver is missing."""
    from sqlalchemy import create_engine

    try:
        return create_engine(url)
    except ModuleNotFoundError as error:
        raise RuntimeError(f"{ENV_DB_URL}={shown(url)} needs the database driver {error.name!r}: "
                           f"`make install` installs psycopg for PostgreSQL") from error
