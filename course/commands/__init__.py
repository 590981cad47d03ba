"""The instructor's commands that are neither grading nor teaching: `make lab`, `make bench`."""
