"""Helpers for the browser tests: a JupyterLab server from `course.commands.lab`, and headless Chromium."""
