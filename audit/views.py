"""The audit search page: who did or read what, when (R-SEC-2). For DSLs, Heads and trust
leads, across the schools where they may read records."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import describe, selectors
from .forms import AuditSearchForm

PER_PAGE = 50


@login_required
@require_GET
def search(request):
    selectors.audit_schools(user=request.user)  # 403 before anything else for other roles
    form = AuditSearchForm(
        request.GET or None,
        people=selectors.audit_people(user=request.user),
        kinds=selectors.audit_kinds(user=request.user),
    )
    events = None
    if form.is_bound and form.is_valid():
        filters = dict(form.cleaned_data)
        search = filters.pop("pupil").strip()
        pupils = (
            selectors.audit_pupils_matching(user=request.user, search=search) if search else None
        )
        events = selectors.audit_events_search(user=request.user, pupils=pupils, **filters)
    elif not form.is_bound:
        events = selectors.audit_events_search(user=request.user)
    page = (
        Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
        if events is not None
        else None
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {
            "form": form,
            "page": page,
            "rows": _rows(page) if page else [],
            "query": query.urlencode(),
        },
    )


def _rows(page) -> list[dict]:
    """Each event in plain words: what happened, what about (linked where it has a page) and
    what changed. A fixed number of queries per kind of object on the page."""
    events = list(page)
    about = describe.describe_events(events)
    return [
        {
            "event": event,
            "what": describe.event_words(event.event_type),
            "about": about.get((event.object_type, event.object_id))
            or describe.Described(describe.fallback(event.object_type)),
            "changes": describe.change_lines(event.changes),
        }
        for event in events
    ]
