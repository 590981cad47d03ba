"""The grading service's ledger: one row per inbound submission, keyed by its inbound name.

The row is written before any work starts and moved on only after the work is done, so a service killed at
any moment loses nothing (a row left `grading` goes back to the queue on the next start) and repeats nothing
finished (a `graded` row is never taken again; the engine itself skips a submission it already recorded).
Submissions that arrive while the service is down are simply rows it has not written yet.

States: queued -> grading -> graded, or refused (never graded, with the reason), held (over the hourly
limit until `not_before`), superseded (a newer submission of the same work came first), failed (with reason).
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .inbound import Entry

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    name TEXT PRIMARY KEY, student TEXT NOT NULL, assignment TEXT NOT NULL, submitted TEXT NOT NULL,
    arrived REAL NOT NULL, state TEXT NOT NULL, reason TEXT, not_before REAL,
    started REAL, finished REAL, tries INTEGER NOT NULL DEFAULT 0, scores TEXT, withheld INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS by_work ON submissions (student, assignment);
"""
WAITING = ("queued", "held")
HOUR = 3600.0


@dataclass
class Row:
    name: str
    student: str
    assignment: str
    submitted: str
    arrived: float
    state: str
    reason: str | None
    not_before: float | None
    started: float | None
    finished: float | None
    tries: int
    scores: list | None
    withheld: bool


class Queue:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self):
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db

    @staticmethod
    def _row(raw) -> Row:
        values = dict(raw)
        values["scores"] = json.loads(values["scores"]) if values["scores"] else None
        values["withheld"] = bool(values["withheld"])
        return Row(**values)

    def add(self, entries: list[Entry], now: float | None = None) -> list[str]:
        """Record the entries not seen before; returns their names."""
        now = time.time() if now is None else now
        added = []
        with self._db() as db:
            for entry in entries:
                cursor = db.execute("INSERT OR IGNORE INTO submissions (name, student, assignment, submitted, arrived, "
                                    "state) VALUES (?, ?, ?, ?, ?, 'queued')",
                                    (entry.name, entry.student, entry.assignment, entry.timestamp, now))
                if cursor.rowcount:
                    added.append(entry.name)
        return added

    def recover(self) -> list[str]:
        """Put back in the queue what a killed service was grading; returns those names."""
        with self._db() as db:
            names = [r["name"] for r in db.execute("SELECT name FROM submissions WHERE state = 'grading'")]
            db.execute("UPDATE submissions SET state = 'queued', reason = NULL WHERE state = 'grading'")
        return names

    def ready(self, per_hour: int, now: float | None = None) -> list[Row]:
        """The waiting rows that may be graded now, oldest first; the others are marked superseded or held."""
        now = time.time() if now is None else now
        chosen = []
        with self._db() as db:
            waiting = [self._row(r) for r in db.execute(
                "SELECT * FROM submissions WHERE state IN ('queued', 'held') ORDER BY arrived, submitted, name")]
            for row in waiting:
                newer = db.execute("SELECT name FROM submissions WHERE student = ? AND assignment = ? AND submitted > ? "
                                   "AND state NOT IN ('refused', 'superseded') LIMIT 1",
                                   (row.student, row.assignment, row.submitted)).fetchone()
                if newer:
                    db.execute("UPDATE submissions SET state = 'superseded', reason = ?, not_before = NULL "
                               "WHERE name = ?", (f"a later submission ({newer['name'].rsplit('+', 2)[1]}) counts "
                                                  "instead", row.name))
                    continue
                recent = [r["finished"] for r in db.execute(
                    "SELECT finished FROM submissions WHERE student = ? AND assignment = ? AND state = 'graded' "
                    "AND finished > ? ORDER BY finished", (row.student, row.assignment, now - HOUR))]
                if len(recent) >= per_hour:
                    not_before = recent[len(recent) - per_hour] + HOUR
                    db.execute("UPDATE submissions SET state = 'held', not_before = ?, reason = ? WHERE name = ?",
                               (not_before, f"{per_hour} submissions of {row.assignment} were graded within the "
                                            "last hour", row.name))
                else:
                    chosen.append(row)
        return chosen

    def start(self, names: list[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._db() as db:
            db.executemany("UPDATE submissions SET state = 'grading', started = ?, tries = tries + 1, reason = NULL, "
                           "not_before = NULL WHERE name = ?", [(now, n) for n in names])

    def finish(self, name: str, state: str, reason: str | None = None, scores: list | None = None,
               withheld: bool = False, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("UPDATE submissions SET state = ?, reason = ?, scores = ?, withheld = ?, finished = ? "
                       "WHERE name = ?", (state, reason, json.dumps(scores) if scores is not None else None,
                                          int(withheld), now, name))

    def retry(self, names: list[str], reason: str, tries: int) -> None:
        """Back to the queue after an error, or failed with it once `tries` attempts have raised."""
        with self._db() as db:
            db.executemany("UPDATE submissions SET state = CASE WHEN tries >= ? THEN 'failed' ELSE 'queued' END, "
                           "reason = ? WHERE name = ? AND state = 'grading'", [(tries, reason, n) for n in names])

    def unwithhold(self, name: str) -> None:
        with self._db() as db:
            db.execute("UPDATE submissions SET withheld = 0 WHERE name = ?", (name,))

    def rows(self, student: str | None = None, state: str | None = None) -> list[Row]:
        query, args = "SELECT * FROM submissions WHERE 1 = 1", []
        if student is not None:
            query, args = query + " AND student = ?", [*args, student]
        if state is not None:
            query, args = query + " AND state = ?", [*args, state]
        with self._db() as db:
            return [self._row(r) for r in db.execute(query + " ORDER BY arrived, submitted, name", args)]

    def position(self, name: str) -> int | None:
        """1 for the next submission to be graded; None when it is not queued."""
        queued = [r.name for r in self.rows(state="queued")]
        return queued.index(name) + 1 if name in queued else None
