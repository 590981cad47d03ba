"""The instructor's commands beside grading: `make system`, `make lab`, `make bench`, `make handout`."""
