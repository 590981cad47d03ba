"""Helpers for the browser tests: a JupyterLab server from `course.lab`, and headless Chromium."""
