from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from records.selectors import pupil_file_scope
from records.services import audit_read

from . import selectors


@login_required
@require_GET
def home(request):
    """Each role lands on its own home page."""
    roles = selectors.user_roles(request.user)
    if selectors.is_authoriser(roles):
        return redirect("visits:queue")
    if "office" in roles:
        return redirect("tracking:board")
    if "manager" in roles:
        return redirect("tracking:escalations")
    if "staff" in roles:
        return redirect("visits:mine")
    return render(request, "schools/no_school.html", status=403)


@login_required
@require_GET
def pupil_list(request):
    search = request.GET.get("q", "").strip()[:100]
    pupils = selectors.pupil_list(user=request.user, search=search)[:200]
    return render(request, "schools/pupil_list.html", {"pupils": pupils, "search": search})


@login_required
@require_GET
def pupil_detail(request, pk: int):
    pupil = selectors.pupil_get(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=pupil, what="pupil")  # R-SEC-2: reads are audited too
    # The chronology is for DSLs and the pupil's visitors once authorised (R-SEC-1): offer it
    # to those who can read something of the file only.
    can_read_records = pupil_file_scope(user=request.user, pupil=pupil).reads_anything
    return render(
        request,
        "schools/pupil_detail.html",
        {"pupil": pupil, "can_read_records": can_read_records},
    )


@login_required
@require_GET
def household_detail(request, pk: int):
    household = selectors.household_get(user=request.user, pk=pk)
    return render(request, "schools/household_detail.html", {"household": household})
