"""Where a grading task's time goes: kernel start-up, the student's cells, waits between cells, the probes, CPU.

The sandboxed executor and the trusted verdicts add to the current stopwatch; the engine's worker starts a
fresh one for each task and sends its figures back with the grades, for the summary line and the benchmark.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

# A reply followed by a pause longer than this before the next cell starts is a stall worth reporting.
STALL_S = 5.0


class Stopwatch:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.sandbox_cpu_s = 0.0
        self.waits: list[tuple[int, float]] = []  # (cell index, seconds from its reply to the next cell's start)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def stalls(self, limit: float = STALL_S) -> list[tuple[int, float]]:
        return [(cell, wait) for cell, wait in self.waits if wait > limit]


current = Stopwatch()


def restart() -> Stopwatch:
    """A fresh stopwatch for the next task; modules read `stopwatch.current` each time, so they all see it."""
    global current
    current = Stopwatch()
    return current
