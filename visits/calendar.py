"""iCalendar feeds of visits, built with `icalendar`, for Outlook and phone calendars."""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from .models import Status, Visit


def feed_ics(*, feed, visits: Iterable[Visit], link: Callable[[Visit], str]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Homeward//Home visits//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Homeward — {feed.get_scope_display()}")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for visit in visits:
        event = Event()
        event.add("uid", f"visit-{visit.pk}@homeward")
        names = ", ".join(str(v.user) for v in visit.visitors.all() if v.withdrawn_at is None)
        event.add("summary", f"Home visit #{visit.pk} ({visit.school.name}) — {names}")
        event.add("dtstart", visit.planned_start)
        event.add("dtend", visit.planned_end)
        event.add("dtstamp", visit.updated_at)
        event.add(
            "description",
            f"{visit.get_status_display()}. Back by "
            f"{timezone.localtime(visit.planned_return):%H:%M}. "
            f"Details (sign-in needed): {link(visit)}",
        )
        event.add("url", link(visit))
        event.add(
            "status",
            "CANCELLED"
            if visit.status in (Status.CANCELLED, Status.REFUSED)
            else "CONFIRMED"
            if visit.status in (Status.AUTHORISED, Status.OUT, Status.RETURNED, Status.RECORDED)
            else "TENTATIVE",
        )
        calendar.add_component(event)
    return calendar.to_ical()
