from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from records.services import audit_read
from schools.selectors import schools_requiring

from . import selectors


@login_required
@require_GET
def my_visits(request):
    """Staff home: my visits, grouped by what needs doing next."""
    schools = schools_requiring(request.user, "request_visits")
    return render(request, "visits/my_visits.html", {"schools": schools})


@login_required
@require_GET
def queue(request):
    """DSL / Head home: the visits waiting for authorisation, oldest first."""
    schools = schools_requiring(request.user, "authorise_visits")
    return render(request, "visits/queue.html", {"schools": schools})


@login_required
@require_GET
def detail(request, pk: int):
    """Everything about a visit, and its timeline from the audit trail."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=visit, what="visit")  # R-SEC-2: reads are audited too
    return render(
        request,
        "visits/detail.html",
        {"visit": visit, "timeline": selectors.visit_timeline(visit=visit)},
    )
