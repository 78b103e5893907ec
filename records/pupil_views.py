"""The pupils and households of the user's schools: the list, a pupil's page (the way into
their file) and a household's page. Opening a pupil's page is an audited read (R-SEC-2)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.services import audit_read
from core.search import search_text
from schools import selectors as schools_selectors
from visits.selectors import visits_of_pupil

from .selectors import pupil_file_scope


@login_required
@require_GET
def pupil_list(request):
    search = search_text(request.GET, length=100)
    pupils = schools_selectors.pupil_list(user=request.user, search=search)[:200]
    return render(request, "records/pupil_list.html", {"pupils": pupils, "search": search})


@login_required
@require_GET
def pupil_detail(request, pk: int):
    pupil = schools_selectors.pupil_get(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=pupil, what="pupil")  # R-SEC-2: reads are audited too
    # The chronology is for DSLs and the pupil's visitors once authorised (R-SEC-1): offer it
    # to those who can read something of the file only.
    can_read_records = pupil_file_scope(user=request.user, pupil=pupil).reads_anything
    # The pupil's visits: every one for DSLs, Heads and trust leads; for anyone else only the
    # visits they requested or went on (R-SEC-1).
    visits, sees_all_visits = visits_of_pupil(user=request.user, pupil=pupil)
    return render(
        request,
        "records/pupil_detail.html",
        {
            "pupil": pupil,
            "can_read_records": can_read_records,
            "is_senior": request.user.has_perm("schools.view_records", pupil.school),
            "visits": visits,
            "sees_all_visits": sees_all_visits,
        },
    )


@login_required
@require_GET
def household_detail(request, pk: int):
    household = schools_selectors.household_get(user=request.user, pk=pk)
    sees_all_visits = request.user.has_perm("schools.view_all_visits", household.school)
    return render(
        request,
        "records/household_detail.html",
        {"household": household, "sees_all_visits": sees_all_visits},
    )
