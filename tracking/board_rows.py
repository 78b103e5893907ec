"""The board's rows as HTML, written here rather than in a template (issue 15): with 300 visits
out the Django template engine spent ~1 ms a row resolving variables, and the board is drawn
again whenever anything on it changes. Every value is escaped (`escape`); the markup is lean:
one CSRF token for the whole board (`form="board-act"`), one URL pattern per action with the
sign-out's id put in (selectors._row_urls), and the less frequent actions in each row's "More
actions" menu, fetched when opened (views.row_actions, static/js/board.js).

R-ESC-12: each row says what the ladder did (texts sent and delivered, the last call, who was
alerted, who acknowledged) and what happens next, and when.
"""

import functools

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from schools.validators import format_uk_phone

from .models import CallAttempt, Notification


@functools.lru_cache(maxsize=4096)
def _phone(number: str) -> str:
    """07700 900123 for +447700900123: parsing a number costs ~0.3 ms, and a school's board
    shows the same few hundred numbers all day."""
    return format_uk_phone(number)


def _hm(value) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _dmy_hm(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


_OUTCOMES = dict(CallAttempt.Outcome.choices)
_CHANNELS = dict(Notification.Channel.choices)


def _ladder(row) -> str:
    """What the ladder did, in one line ("" when nothing yet)."""
    signout, summary = row.signout, row.summary
    parts = []
    if summary["texts_sent"]:
        parts.append(f"Texts: {summary['texts_sent']} sent, {summary['texts_delivered']} delivered")
    calls = signout.call_log
    if calls:
        last = calls[0]
        count = len(calls)
        parts.append(
            f"Last call {_hm(last.called_at)} to {escape(_phone(last.number_called))}: "
            f"{escape(_OUTCOMES.get(last.outcome, last.outcome))} "
            f"({count} call{'' if count == 1 else 's'})"
        )
    if summary["alerted"]:
        parts.append("Alerted: " + escape(", ".join(summary["alerted"])))
    if summary["acknowledged"]:
        parts.append(f"<strong>Acknowledged by {escape(summary['acknowledged'])}</strong>")
    return f"<p>{' · '.join(parts)}</p>" if parts else ""


def row_html(row, resend_url) -> str:
    signout, urls = row.signout, row.urls
    pk = signout.pk
    visitors = signout.visitors.all()
    mobiles = " · ".join(
        f'<a href="tel:{escape(v.mobile)}">{escape(v.user.first_name)}: '
        f"{escape(_phone(v.mobile))}</a>"
        for v in visitors
    )
    countdown = ""
    if signout.is_open:
        countdown = (
            f' — <span data-countdown-to="{int(signout.expected_return_at.timestamp())}">'
            f"{row.countdown}</span>"
        )
    conditions = getattr(signout.visit, "conditions_given", None)
    summary = row.summary
    if summary["next"]:
        after = f'<p class="fw-semibold">Next: {escape(summary["next"])}</p>'
    elif summary["stood_down"]:
        after = f"<p>{escape(summary['stood_down'])}</p>"
    else:
        after = ""
    actions = ""
    if signout.is_open:
        actions = (
            f'<button class="btn btn-success" form="board-act" '
            f'formaction="{urls["returned"]}">Back at school</button> '
            f'<a class="btn btn-outline-secondary" href="{urls["call"]}">Record a call</a>'
        )
    if row.alarm:
        actions += f' <a class="btn btn-danger" href="{urls["emergency"]}">Emergency page</a>'
    notes = "".join(_doubtful_one(note, resend_url(note.pk)) for note in row.doubtful)
    return (
        f'<article class="board-row board-row-{row.css}" aria-labelledby="row-{pk}">'
        f'<header><h3 id="row-{pk}">{escape(row.names)}</h3>'
        f'<span class="badge text-bg-{row.css}">{escape(row.label)}</span></header>'
        + (
            '<p class="alert alert-danger py-1 px-2" role="alert">The next escalation step is '
            "due but has not run automatically: act on it now.</p>"
            if row.behind
            else ""
        )
        + f"<p>Expected back <strong>{_hm(signout.expected_return_at)}</strong>{countdown} · "
        f"signed out {_dmy_hm(signout.signed_out_at)} · {escape(signout.vehicle)}</p>"
        f"<p>{escape(signout.visit.household.address)} · {mobiles}</p>"
        + (
            f"<p>Conditions: <strong>{escape(conditions[0].conditions)}</strong></p>"
            if conditions
            else ""
        )
        + _ladder(row)
        + after
        + notes
        + f'<div class="br-act">{actions}'
        f'<details id="more-{pk}" class="br-more" hx-preserve><summary>More actions</summary>'
        "</details></div></article>\n"
    )


def _doubtful_one(note, resend: str) -> str:
    what = (
        "in doubt — it may not have been sent"
        if note.status == Notification.Status.UNKNOWN
        else "could not be sent"
    )
    return (
        '<div class="alert alert-warning py-1 px-2 mb-2 small br-act align-items-center" '
        f'role="status"><span>{escape(_CHANNELS.get(note.channel, note.channel))} to '
        f"{escape(note.recipient_label)} at {_hm(note.created_at)}: <strong>{what}</strong>."
        f'</span> <button class="btn btn-sm btn-warning" form="board-act" '
        f'formaction="{resend}">Resend</button></div>'
    )


def rows_html(rows, resend_url) -> SafeString:
    """Every row of the board, in one string (escaped piece by piece above). `resend_url(pk)`
    is a message's resend URL."""
    return mark_safe("".join(row_html(row, resend_url) for row in rows))  # noqa: S308
