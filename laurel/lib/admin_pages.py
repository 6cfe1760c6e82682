"""Laurel's own pages inside the admin (the integrity review, the organizer and jury pages)."""

from django.contrib import admin
from django.http import HttpRequest


def admin_page_context(request: HttpRequest, title: str, **extra) -> dict:
    """The admin's own context for a page of ours, without the navigation sidebar: the tables
    on these pages need the width."""
    context = {**admin.site.each_context(request), "is_nav_sidebar_enabled": False}
    return {**context, "title": title, **extra}
