"""The README and every page under docs/ say only what is true of this repository.

Each page is read for what can go stale: `make` targets (they must be in the
Makefile), `python -m` modules (they must be importable), relative links and
their #anchors, repository paths in backticks or code blocks (they must exist,
unless .gitignore marks them as made at run time), dotted `course.` module
names (modules, or names in them), and `COURSE_*` variables (the code must read them). Only what sits in
code (backticks, fenced blocks) counts as a command or a path, so pages write
every command and path that way. tests/commands/test_handout.py runs the same
checks on the student guide inside the handout.
"""
import fnmatch
import importlib.util
import re
from pathlib import Path

from tests.helpers import ROOT

README_LIMIT = 8192
REPO_PREFIXES = ("course/", "source/", "tests/", "docs/", "release/", "data/", "autograded/", ".ci/")

FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*$", re.MULTILINE)
PYTHON_M = re.compile(r"(?:^|[\s/])python[\d.]*(?:\s+-[A-Za-z]+)*\s+-m\s+([A-Za-z_][\w.]*)")
COURSE_MODULE = re.compile(r"^course(?:\.[A-Za-z_]+)+$")
VARIABLE = re.compile(r"\bCOURSE_[A-Z0-9_]+\b")
TARGET = re.compile(r"^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:(?!=)", re.MULTILINE)
MAKE_TARGET = re.compile(r"^[a-z][\w.-]*$")
SEPARATORS = {";", "&&", "||", "|", "&"}


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def makefile_targets(makefile: Path) -> set[str]:
    """Every target a Makefile defines (not .PHONY and friends, not variables)."""
    targets = set()
    for found in TARGET.finditer(makefile.read_text()):
        targets |= {name for name in found.group(1).split() if not name.startswith(".")}
    return targets


def code_snippets(text: str) -> list[str]:
    """The lines of fenced blocks, and inline code spans outside them."""
    snippets = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return snippets + INLINE.findall(FENCE.sub("", text))


def make_targets(snippet: str) -> list[str]:
    """`make lab`, `COURSE_FAST=0 make test`, `make release demo  # ...` -> the targets named."""
    words, found, after_make = snippet.split(), [], False
    for word in (w.rstrip(",.:)") for w in words):
        if word.startswith("#") or word in SEPARATORS:
            after_make = False
        elif word == "make" or word.endswith("/make"):
            after_make = True
        elif after_make and "=" not in word and not word.startswith("-"):
            if not MAKE_TARGET.match(word):
                after_make = False
            else:
                found.append(word)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", page.read_text()))}


def _ignored_patterns(root: Path) -> tuple[list[str], list[str]]:
    gitignore = root / ".gitignore"
    lines = [line.strip() for line in gitignore.read_text().splitlines()] if gitignore.is_file() else []
    lines = [line for line in lines if line and not line.startswith("#")]
    return ([line.rstrip("/") for line in lines if not line.startswith("!")],
            [line[1:].rstrip("/") for line in lines if line.startswith("!")])


def made_at_run_time(path: str, root: Path) -> bool:
    """True when .gitignore covers `path` or a folder above it (data/..., tests/artifacts/...)."""
    ignored, kept = _ignored_patterns(root)
    parts = path.rstrip("/").split("/")
    if any(fnmatch.fnmatch(path.rstrip("/"), pattern) for pattern in kept):
        return False
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in ignored)


def path_exists(path: str, root: Path) -> bool:
    pattern = re.sub(r"<[^>]*>", "*", path).rstrip("/")
    return any(root.glob(pattern)) if "*" in pattern else (root / pattern).exists()


def repository_paths(snippet: str) -> list[str]:
    found = []
    for word in re.sub(r"<[^<>]*>", "<x>", snippet).split():  # `<test name>` is one placeholder
        word = word.lstrip("\"'`([").rstrip("\"'`,;:)].").split("::")[0]
        if word.startswith(REPO_PREFIXES) and "://" not in word:
            found.append(word)
    return found


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def resolvable(dotted: str) -> bool:
    """`course.grading.run.sandbox` (a module) or `course.checks.check_value` (a name in one) exists."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if importable(module):
            value = importlib.import_module(module)
            for attribute in parts[cut:]:
                if not hasattr(value, attribute):
                    return False
                value = getattr(value, attribute)
            return True
    return False


def _haystack(root: Path) -> str:
    files = sorted((root / "course").rglob("*.py")) + [root / "Makefile", root / "nbgrader_config.py",
                                                       root / "tests" / "conftest.py"]
    return "\n".join(path.read_text() for path in files if path.is_file())


def page_problems(page: Path, root: Path = ROOT, targets: set[str] | None = None) -> list[str]:
    """Everything on `page` that is not true of the repository (or handout) at `root`."""
    page, root = Path(page), Path(root)
    text = page.read_text()
    targets = makefile_targets(root / "Makefile") if targets is None else targets
    name = page.name
    problems = []
    snippets = code_snippets(text)
    for snippet in snippets:
        for target in make_targets(snippet):
            if target not in targets:
                problems.append(f"{name}: `make {target}` is not a target of the Makefile")
        for module in PYTHON_M.findall(snippet):
            if not importable(module):
                problems.append(f"{name}: `python -m {module}` names no importable module")
        if COURSE_MODULE.match(snippet.strip()) and not resolvable(snippet.strip()):
            problems.append(f"{name}: `{snippet.strip()}` names no module or function")
        for path in repository_paths(snippet):
            if not path_exists(path, root) and not made_at_run_time(path, root):
                problems.append(f"{name}: `{path}` does not exist")
    for link in LINK.findall(FENCE.sub("", text)):
        if "://" in link or link.startswith("mailto:"):
            continue
        target, _, anchor = link.partition("#")
        linked = (page.parent / target).resolve() if target else page.resolve()
        if not linked.exists():
            problems.append(f"{name}: the link to {link} leads nowhere")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{name}: {linked.name} has no heading for #{anchor}")
    haystack = _haystack(root)
    for variable in sorted(set(VARIABLE.findall(text))):
        if not re.search(rf"\b{variable}\b", haystack):
            problems.append(f"{name}: {variable} is read nowhere in course/, the Makefile, "
                            "nbgrader_config.py or tests/conftest.py")
    return problems


# --- the pages --------------------------------------------------------------------------------------

def test_the_readme_fits_in_8_kib():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail into docs/"


def test_every_page_is_true_of_the_repository():
    problems = [problem for page in pages() for problem in page_problems(page)]
    assert not problems, "\n".join(problems)


def test_the_readme_leads_to_every_docs_page():
    linked = {link.partition("#")[0] for link in LINK.findall((ROOT / "README.md").read_text())}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert page.relative_to(ROOT).as_posix() in linked, f"README.md does not link to {page.relative_to(ROOT)}"


def test_ci_runs_exactly_make_test():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in script if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert not any(re.search(r"\b(apt-get|apt|pip|pytest)\b", line) for line in commands), commands


# --- the checker itself -------------------------------------------------------------------------------

def test_the_makefile_parser_finds_targets_not_variables():
    targets = makefile_targets(ROOT / "Makefile")
    assert {"all", "test", "system", "handout", "lab", "bench", "clean"} <= targets
    assert not targets & {"PHONY", ".PHONY", "PATH", "export", "PY", "VENV"}
    assert make_targets("COURSE_FAST=0 make test   # in full") == ["test"]
    assert make_targets("make release demo && make -j2 autograde") == ["release", "demo", "autograde"]
    assert make_targets("commands: make lab, make bench") == ["lab", "bench"]
    assert repository_paths("kept in `tests/artifacts/browser/<test name>/`.") == ["tests/artifacts/browser/<x>/"]


STALE = """# An old page

Run `make deploy`, then `.venv/bin/python -m course.lab --no-browser`.
The sandbox lives in `course/sandbox.py`, the catalogue in `tests/catalogue/hostile.py`,
the verdicts in `course.trusted`, and `course.checks.no_such_check` checks. Set `COURSE_NO_SUCH_SWITCH=1` to go faster.
See [the guide](nowhere.md) and [its part](#a-heading-that-is-not-here).

```bash
make autograde && make publish
python3 -I -m course.no_such_module
cat source/99_missing/probes.py
```
"""

TRUE = """# A true page

## Commands

`make test` runs everything; `COURSE_FAST=1 make test` too. `.venv/bin/python -m course.commands.handout`
writes `handout/cnn-course-handout.zip`, from `docs/students.md` and `release/<id>/<id>.ipynb`;
`source/<id>/probes.py` and `course.grading.run.sandbox` stay home, `course.checks.check_value` ships,
`data/FashionMNIST/raw/` is made by `make data`.
See [the commands](#commands) and [the README](README.md).
"""


def test_a_stale_page_fails_on_every_stale_thing(tmp_path):
    page = tmp_path / "stale.md"
    page.write_text(STALE)
    problems = "\n".join(page_problems(page))
    for stale in ("make deploy", "make publish", "python -m course.lab", "python -m course.no_such_module",
                  "course/sandbox.py", "tests/catalogue/hostile.py", "source/99_missing/probes.py",
                  "course.trusted", "course.checks.no_such_check", "COURSE_NO_SUCH_SWITCH", "nowhere.md", "#a-heading-that-is-not-here"):
        assert stale in problems, f"the checker missed {stale!r}:\n{problems}"
    assert "make autograde" not in problems


def test_a_true_page_passes(tmp_path):
    (tmp_path / "README.md").write_text("# elsewhere\n")
    page = tmp_path / "true.md"
    page.write_text(TRUE)
    assert page_problems(page) == []
