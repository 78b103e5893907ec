"""Templated email: templates/emails/<name>-subject.txt, -body.txt and -body.html.

No child's name, date of birth or address goes in an email: a link, staff names and times only.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string


def email_render(name: str, context: dict) -> tuple[str, str, str | None]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    body = render_to_string(f"emails/{name}-body.txt", context)
    try:
        html = render_to_string(f"emails/{name}-body.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, body, html


def email_send(*, name: str, to: list[str], context: dict) -> int:
    """Send one email to each address (recipients never see each other). Returns how many."""
    addresses = sorted({address for address in to if address})
    if not addresses:
        return 0
    subject, body, html = email_render(name, context)
    for address in addresses:
        message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        if html:
            message.attach_alternative(html, "text/html")
        message.send()
    return len(addresses)
