"""nbgrader settings for the course; every nbgrader command reads this file."""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
                                    AssignLatePenalties,
                                    CheckCellMetadata,
                                    ClearOutput,
                                    DeduplicateIds,
                                    GetGrades,
                                    IgnorePattern,
                                    LimitOutput,
                                    OverwriteCells,
                                    OverwriteKernelspec,
                                    SaveAutoGrades,
)

from course.grading.engine import database
from course.grading.run import recovery, sandbox, stderr
from course.grading.semester import late
from course.grading.semester.on_submit import policy as on_submit
from course.grading.verdicts import catalogues, probe, probing, rubrics, submitted_outputs, trusted

c = get_config()  # noqa: F821 (nbgrader provides it)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-foundations"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# gradebook.db beside this file, or the shared server COURSE_DB_URL names (course/grading/engine/database.py).
c.CourseDirectory.db_url = database.db_url(HERE)

# A student's notebook never pulls in stray files from their folder, and the
# instructor-only probes (source/<assignment>/probes.py) are neither released
# nor copied next to a submission when it is autograded.
# The grader's files beside each notebook (trusted checks, rubrics, answer catalogues) are never released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", probe.PROBES_FILE,
                            rubrics.RUBRICS_FILE, *catalogues.FILES]

# Grading runs in fast mode (NBGRADER_EXECUTION is set), so no cell should
# come near this; it only stops a runaway loop on a CPU laptop.
# COURSE_CELL_TIMEOUT overrides it (the hostile-submission tests use a few seconds).
c.Execute.timeout = sandbox.cell_timeout(120)
c.Execute.interrupt_on_timeout = True
# Keep executing after a failing cell: every exercise is judged on its own result.
c.Execute.allow_errors = True
c.Execute.raise_on_iopub_timeout = False

# Grading code we cannot trust (docs/grading-untrusted-code.md):
# student kernels run in a bubblewrap sandbox (course/grading/run/sandbox.py) that also
# (course/grading/run/execute.py) survives dying or stuck kernels; every test cell with a probe gets a second
# verdict computed outside the student's reach (course/grading/verdicts/trusted.py); deleted
# test and answer cells are put back; and every autograded cell starts at
# zero, so a submission nbgrader cannot process scores zero, with the reason
# in the log.
c.Autograde.sanitize_preprocessors = [
    submitted_outputs.KeepSubmittedOutputs,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    recovery.RestoreMissingAnswers,
    OverwriteCells,
    CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True
c.Autograde.autograde_preprocessors = [
    probing.ProbingExecute,
    submitted_outputs.ShowSubmittedOutputs,
    rubrics.ShowRubrics,
    trusted.TrustedVerdicts,
    stderr.StderrIsNotFailure,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.Autograde.pre_convert_hook = recovery.zero_before_grading(c.CourseDirectory.db_url)

# Releasing to the exchange (the hub's formgrader) keeps to schedule.toml: an assignment waits until the ones
# it requires are due, and takes its due date from there (course/grading/semester/release_gate.py).
c.ExchangeFactory.release_assignment = "course.grading.semester.release_gate.ScheduledReleaseAssignment"

# Late work (after the due date in the gradebook, which schedule.toml feeds, plus the submission's extension)
# loses 10% of its autograded score per started day (course/grading/semester/late.py); set percent_per_day
# to 0 for no penalty. Work up to grace_minutes late costs nothing; later work counts its days from there.
c.AssignLatePenalties.plugin_class = late.PerDayPenalty
c.PerDayPenalty.percent_per_day = 10.0
c.PerDayPenalty.grace_minutes = 0

# The stub a student sees in every exercise cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Release notebooks start clean: no outputs, no solution text.
c.ClearOutput.enabled = True
c.GenerateAssignment.create_assignment = True

# Huge outputs (a print in a loop) are cut before they reach the gradebook and feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50

# Feedback on submit (docs/hub.md): the hub's grading service grades each submission when it arrives and releases
# its feedback. At most per_hour graded submissions per student and assignment in any hour (later ones wait);
# larger submissions than max_bytes are refused. Hidden tests in feedback: "until_due" withholds their code and
# messages until the student's due date has passed (the points always show), "points_only" withholds them
# always, "everything" shows them always. This applies to the feedback the instructor generates as well.
# COURSE_SUBMISSIONS_PER_HOUR overrides per_hour (the hub's browser test holds a third submission with 2).
c.OnSubmit.per_hour = int(os.environ.get("COURSE_SUBMISSIONS_PER_HOUR", "5"))
c.OnSubmit.max_bytes = 50 * 2**20
c.WithholdHiddenTests.policy = "until_due"
c.GenerateFeedback.preprocessors = [GetGrades, on_submit.WithholdHiddenTests, CSSHTMLHeaderPreprocessor]
