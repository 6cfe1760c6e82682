"""The import preview's words: its summary, and its problems by the rows a spreadsheet shows.

Django loads every tag library when its template engine starts: the import's modules (and the
tablib, openpyxl and Pillow they bring) are loaded by the preview that uses them, not by every
web worker (tests/test_worker_imports.py).
"""

from django import template

register = template.Library()

KINDS = [("new", "new"), ("update", "changed"), ("skip", "unchanged"), ("delete", "deleted")]


@register.filter
def sheet_row(number: int) -> int:
    from awards.imports import sheet_row

    return sheet_row(number)


@register.filter
def import_summary_line(result) -> str:
    """What confirming would do: "984 new · 2 changed · 3 unchanged"."""
    counts = [f"{result.totals[kind]:,} {word}" for kind, word in KINDS if result.totals[kind]]
    return " · ".join(counts) or "No rows"


@register.filter
def import_problem_lines(result) -> list[str]:
    from awards.imports import import_problems

    return import_problems(result)
