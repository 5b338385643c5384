"""Where a KPI's records are listed, for the filters its categories open."""

from django.urls import NoReverseMatch, reverse


def tab_url(name: str) -> str:
    """A workspace tab's URL, or "" where the tab is not installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""
