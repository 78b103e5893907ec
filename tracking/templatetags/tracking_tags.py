from django import template

from schools.validators import format_uk_phone

register = template.Library()


@register.filter
def uk_phone(value: str) -> str:
    """+447700900123 → 07700 900123, how a British reader dials it."""
    return format_uk_phone(value) if value else ""
