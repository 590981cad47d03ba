"""The class report: per-exercise statistics, the reasons students lost points, and similar submissions.

Read-only: it reads the gradebook, the grading ledger and `autograded/`, and writes nothing but the
report's own folder. Part of the semester layer: may import `engine`, `verdicts`, `run` and `course`.
"""
