"""The grader's side of the course: it never runs in a student's notebook.

`probe` is what probe authors write against; `sandbox`, `execute`,
`verdicts`, `probe_runner` and `recovery` are what nbgrader_config.py plugs
into nbgrader; `pipeline`, `submissions` and `demo` run a grading round.
"""
