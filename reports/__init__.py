"""Rendering of stored results: Markdown, LaTeX, CSV and a self-contained HTML page.

Reads result folders (see :mod:`reports.schema`) and images; knows no model and no metric code.
"""
