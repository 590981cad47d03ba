"""Running untrusted code: the bubblewrap sandbox, and nbgrader's executor whose kernels live in it.

Imports only `course.paths` and third-party packages: the sandbox knows nothing of verdicts, engines or semesters.
"""
