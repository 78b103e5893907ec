"""The dashboard's figure cells, joined in one call per row: a trust of 50 schools has thousands
of cells, and rendering each through the template engine was most of the page's own time."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def figure_cells(values):
    """`<td class="text-end">…</td>` for each figure of a row: a number as it is, anything else
    ("fewer than 5", "2.0 h") escaped."""
    return mark_safe(  # noqa: S308 - every value is a number or escaped just here
        "".join(
            f'<td class="text-end">{value if type(value) is int else escape(value)}</td>'
            for value in values
        )
    )
