"""Grading a class at scale: the driver, the Dask workers, the clusters they run on, and the one gradebook writer.

May import `verdicts` and `run`; it never learns of releases, rosters or LMS files (those are the semester's).
"""
