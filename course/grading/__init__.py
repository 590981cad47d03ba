"""The grader's side of the course: nothing here runs in a student's notebook.

Four packages, one concern each; a package imports only those listed after it, and `course`'s
student modules (paths, calls, data) below them all:

    semester/   what the instructor runs: release, autograde, feedback, grades, the LMS, the demo class
    engine/     grading a class in parallel on Dask: the driver, its workers, the one gradebook writer
    verdicts/   how a score is decided: probes, the trusted verdict, rubrics, the answer catalogues
    run/        running untrusted notebooks: the bubblewrap sandbox and nbgrader's executor inside it
"""
