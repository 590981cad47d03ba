"""nbgrader settings for the course; every nbgrader command reads this file."""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-foundations"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# A student's notebook never pulls in stray files from their folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Grading runs in fast mode (NBGRADER_EXECUTION is set), so no cell should
# come near this; it only stops a runaway loop on a CPU laptop.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# Keep executing after a failing cell: every exercise is judged on its own result.
c.Execute.allow_errors = True
c.Execute.raise_on_iopub_timeout = False

# The stub a student sees in every exercise cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Release notebooks start clean: no outputs, no solution text.
c.ClearOutput.enabled = True
c.GenerateAssignment.create_assignment = True

# Huge outputs (a print in a loop) are cut before they reach the gradebook and feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50
