"""How a score is decided: the probes and the trusted verdict outside the student's reach, rubrics, kept outputs, catalogues.

May import `course.grading.run` (its probes run in the sandbox) and the student modules; never the engine or the semester.
"""
