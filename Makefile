# The course's commands. `make all` runs a whole grading round on the demo
# class; `make test` runs every test. Both set everything up first, from the
# Debian packages (course/commands/system.py) to the pinned venv.
# Debian's python3.11 first: on `make hub` every account's server runs the venv's Python, so the venv must come
# from an interpreter all accounts can run (not one under a private home such as /root/.pyenv).
PYTHON ?= $(shell command -v /usr/bin/python3.11 || command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.installed

.PHONY: all system system-test install data release schedule extend demo autograde feedback grades collect-lms handout lab lint test bench bench-grading clean \
	proxy roster hub report bench-report bench-hub bench-submit

# The demo round runs in demo/, a course folder of its own (course/commands/demo.py): the instructor's
# gradebook, submissions, feedback and grade files are never touched, even mid-semester.
all: system install data
	$(PY) -m course.commands.demo

# Debian packages: installed as root or with passwordless sudo, else the one command to run is printed.
system:
	@$(PYTHON) -m course.commands.system grade

system-test:
	@$(PYTHON) -m course.commands.system test

install: $(STAMP)

$(STAMP): requirements.txt requirements-student.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(VENV)/bin/jupyter labextension list 2>&1 | grep -q nbgrader
	touch $@

data: install
	$(PY) -m course.data

# ASSIGNMENT="03_pooling 04" (names or their starts, spaces or commas) releases those only; the due dates of
# schedule.toml go into the gradebook; FORCE=1 releases before the assignments it requires are due.
ASSIGNMENT_ARGS = $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") $(if $(filter 1 yes true,$(FORCE)),--force)
release: install
	$(PY) -m course.grading.semester.pipeline release $(ASSIGNMENT_ARGS)

# One student's extension (nbgrader's, in the gradebook) and their late penalty recomputed; HOURS=0 takes it back.
extend: install
	@test -n "$(STUDENT)" && test -n "$(ASSIGNMENT)" && test -n "$(HOURS)" || \
		{ echo "usage: make extend STUDENT=s123 ASSIGNMENT=05_training_loop HOURS=48" >&2; exit 2; }
	$(PY) -m course.commands.extend --student "$(STUDENT)" --assignment "$(ASSIGNMENT)" --hours "$(HOURS)"

# schedule.toml as a table: release and due dates, what is open or overdue now, extensions, the grace period.
schedule: install
	$(PY) -m course.commands.schedule

demo: install data
	$(PY) -m course.grading.semester.demo

# In parallel on Dask (docs/grading-at-scale.md): only what changed since the last run, unless FORCE=1;
# STUDENT=s123 ASSIGNMENT=03_pooling regrades one; COURSE_SCHEDULER=tcp://HOST:PORT uses a running cluster.
autograde: install
	$(PY) -m course.grading.semester.pipeline autograde $(ASSIGNMENT_ARGS) $(if $(STUDENT),--student $(STUDENT))

feedback: install
	$(PY) -m course.grading.semester.pipeline feedback

# grades.csv, then the Canvas and Moodle import files; those are refused while written answers wait
# for manual grading, unless UNGRADED=1 (docs/instructors.md, section 7).
grades: install
	$(PY) -m course.grading.semester.pipeline grades
	$(PY) -m course.commands.lms grades $(if $(filter 1 yes true,$(UNGRADED)),--allow-ungraded)

# An LMS's bulk download of one assignment's submissions into submitted/ (docs/instructors.md, section 3).
# ZIP_TIMES=1 takes the times stored in the zip as submission times (in ZIP_TZ, UTC by default).
collect-lms: install
	@test -n "$(ZIP)" || { echo "usage: make collect-lms ZIP=download.zip [ASSIGNMENT=01_convolution]" >&2; exit 2; }
	$(PY) -m course.commands.lms collect "$(ZIP)" $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) \
		$(if $(LMS),--lms $(LMS)) $(if $(filter 1 yes true,$(ZIP_TIMES)),--zip-times) $(if $(ZIP_TZ),--timezone $(ZIP_TZ))

handout: install
	$(PY) -m course.commands.handout $(ASSIGNMENT_ARGS)

# The instructor's class report in reports/ (docs/instructors.md, "The class report"); reads, never changes, grades.
report: install
	$(PY) -m course.commands.report

lab: install data
	$(PY) -m course.commands.lab

# JupyterHub's proxy, the exact npm tree of course/commands/hub/proxy/package-lock.json, in .hub-proxy/.
# npm comes from `make system`.
PROXY := .hub-proxy/node_modules/.bin/configurable-http-proxy
proxy: system $(PROXY)

$(PROXY): course/commands/hub/proxy/package.json course/commands/hub/proxy/package-lock.json
	mkdir -p .hub-proxy
	cp course/commands/hub/proxy/package.json course/commands/hub/proxy/package-lock.json .hub-proxy/
	cd .hub-proxy && npm ci --no-audit --no-fund --omit=dev --loglevel=error
	touch $@

# The course on a JupyterHub on this machine, as root (docs/hub.md): `make roster` makes the accounts of
# roster.csv, an instructor (INSTRUCTOR=instructor) and the TAs (GRADERS="ta1 ta2"), locks and archives
# students who left the roster, and fills the gradebook; `make hub` serves it on 127.0.0.1:8000 (HUB_IP,
# HUB_PORT), each server limited to HUB_MEMORY (3G) and HUB_CPUS (1; off for none); HUB_HOME (/srv/cnn-course)
# holds the course copy, exchange and passwords.
HUB_ARGS = $(if $(HUB_HOME),--home $(HUB_HOME)) $(if $(INSTRUCTOR),--instructor $(INSTRUCTOR))
roster: install
	$(PY) -m course.commands.hub.manage roster $(HUB_ARGS) $(if $(ROSTER),--roster $(ROSTER)) \
		$(if $(GRADERS),--graders "$(GRADERS)")

hub: install data proxy
	$(PY) -m course.commands.hub.manage start $(HUB_ARGS) $(if $(HUB_IP),--ip $(HUB_IP)) $(if $(HUB_PORT),--port $(HUB_PORT)) \
		$(if $(HUB_MEMORY),--memory $(HUB_MEMORY)) $(if $(HUB_CPUS),--cpus $(HUB_CPUS))

lint: install
	$(VENV)/bin/ruff check .

# The notebooks run in fast mode under test, as in CI; `make test COURSE_FAST=0` runs them in full.
# tests/ on two pytest-xdist workers: the tests sharing the graded class and the servers on one, every other
# file on whichever worker is free (tests/conftest.py); then the solution notebooks under nbval, whose cells must share one kernel.
# pytest exits 5 when it collects nothing: that must fail loudly, not pass.
COURSE_FAST ?= 1
test: system-test install data proxy lint
	@COURSE_FAST=$(COURSE_FAST) $(PY) -m pytest -n 2 --dist loadgroup -ra --durations=25 tests; first=$$?; \
	COURSE_FAST=$(COURSE_FAST) $(PY) -m pytest -ra source; second=$$?; \
	for status in $$first $$second; do \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
		if [ $$status -ne 0 ]; then exit $$status; fi; \
	done

bench: install data
	$(PY) -m course.commands.bench

# Serial nbgrader against the engine, on PostgreSQL and on Slurm, on a generated class (STUDENTS=24 by default;
# ONLY=engine1,slurm picks rows), with where each submission's seconds go; QUICK=1 grades 3 students on the engine
# rows only. Prints, asserts nothing.
bench-grading: install data
	$(PY) -m course.commands.bench_grading $(if $(STUDENTS),--students $(STUDENTS)) \
		$(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(ONLY),--only $(ONLY)) $(if $(filter 1 yes true,$(QUICK)),--quick)

# What one student's server costs the hub machine: 06's solution notebook run in full mode in a cgroup (as root).
bench-hub: install data
	$(PY) -m course.commands.bench_hub

# The report's similarity threshold on a generated class (recall, false pairs) and its timings at 500 students.
# Feedback on submit (docs/hub.md): STUDENTS (30) submit ASSIGNMENT (01) within WINDOW seconds as throwaway Unix
# accounts, through nbgrader's exchange; prints p50/p95 seconds from submit to released feedback (as root).
bench-submit: install data
	$(PY) -m course.commands.bench_submit $(if $(STUDENTS),--students $(STUDENTS)) \
		$(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(WINDOW),--window $(WINDOW))

bench-report: install
	$(PY) -m course.commands.bench_report

# demo/, the handout and caches; submissions, grades and a gradebook with students or due dates only with FORCE=1.
clean:
	@$(PYTHON) -m course.commands.clean $(if $(filter 1 yes true,$(FORCE)),--force)
