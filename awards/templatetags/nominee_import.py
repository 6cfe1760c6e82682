"""The import preview's words: its summary, and its problems by the rows a spreadsheet shows."""

from django import template
from import_export.results import Result

from awards.imports import import_problems, sheet_row

register = template.Library()
register.filter("sheet_row", sheet_row)

KINDS = [("new", "new"), ("update", "changed"), ("skip", "unchanged"), ("delete", "deleted")]


@register.filter
def import_summary_line(result: Result) -> str:
    """What confirming would do: "984 new · 2 changed · 3 unchanged"."""
    counts = [f"{result.totals[kind]:,} {word}" for kind, word in KINDS if result.totals[kind]]
    return " · ".join(counts) or "No rows"


@register.filter
def import_problem_lines(result: Result) -> list[str]:
    return import_problems(result)
