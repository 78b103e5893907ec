from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

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
