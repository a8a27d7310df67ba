"""Renderers of a Report: terminal text, the PR comment in Markdown, JSON and SARIF 2.1.0."""

from gitops_health.rules.render.json_report import render_json, report_schema, report_to_dict
from gitops_health.rules.render.markdown import (
    COMMENT_MARKER,
    GITHUB_COMMENT_LIMIT,
    render_markdown,
)
from gitops_health.rules.render.sarif import render_sarif
from gitops_health.rules.render.terminal import render_terminal

__all__ = [
    "COMMENT_MARKER",
    "GITHUB_COMMENT_LIMIT",
    "render_json",
    "render_markdown",
    "render_sarif",
    "render_terminal",
    "report_schema",
    "report_to_dict",
]
