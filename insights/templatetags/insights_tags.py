"""The dashboard's figure cells, joined in one call per row: a trust of 50 schools has thousands
of cells, and rendering each through the template engine was most of the page's own time."""

from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag
def figure_cells(values):
    """`<td class="text-end">…</td>` for each figure of a row, each escaped."""
    return format_html_join("", '<td class="text-end">{}</td>', ((value,) for value in values))
