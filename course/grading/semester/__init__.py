"""The instructor's semester: release, autograde, feedback and grades, the roster, the LMS route, late work, the demo class.

The top of the grader: may import `engine`, `verdicts` and `run`; nothing in `course.grading` imports it.
"""
