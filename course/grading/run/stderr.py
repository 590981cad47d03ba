"""Warnings and progress bars in a test cell cost no points; errors still do.

nbgrader scores a test cell zero when it wrote anything to stderr. A correct
answer that triggers a library warning, or a training loop with a tqdm bar,
then loses its points while the student saw the check pass. After execution
(and after the trusted verdicts, which add errors of their own), a test cell's
stderr text is kept where the grader and the student can read it, as ordinary
output marked as such, so only an error output or a failed trusted check can
zero the cell.
"""
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

PREFIX = "[written to stderr; it does not affect the grade]\n"


class StderrIsNotFailure(NbGraderPreprocessor):
    """Turn a graded code cell's stderr streams into stdout text with a short note in front."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        for cell in nb.cells:
            if cell.cell_type != "code" or not utils.is_grade(cell):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
                    output["text"] = PREFIX + output.get("text", "")
        return nb, resources
