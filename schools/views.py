from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .models import StaffProfile


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


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label="Your photo",
        required=False,
        help_text="A recent head-and-shoulders photo, JPEG, PNG or WebP, at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_photo(request):
    """Issue 14: a member of staff's optional photo, for the emergency page and the Police
    briefing only. Anyone with a role at a school may set or remove their own."""
    if not selectors.schools_for_user(request.user).exists():
        raise PermissionDenied("You have no role at a school.")
    profile = StaffProfile.objects.filter(user=request.user).first()
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if "remove" in request.POST:
            services.staff_photo_remove(actor=request.user, user=request.user)
            messages.success(request, "Your photo is deleted.")
            return redirect("my_photo")
        if form.is_valid():
            upload = form.cleaned_data.get("photo")
            if not upload:
                form.add_error("photo", "Choose a photo to upload.")
            else:
                try:
                    services.staff_photo_set(actor=request.user, user=request.user, upload=upload)
                except ValidationError as error:
                    form.add_error("photo", error.messages)
                else:
                    messages.success(request, "Your photo is saved.")
                    return redirect("my_photo")
    return render(
        request,
        "schools/my_photo.html",
        {"form": form, "has_photo": bool(profile and profile.photo)},
    )


@login_required
@require_GET
def my_photo_image(request):
    """The user's own photo, and nobody else's (others see it only on the emergency page)."""
    profile = StaffProfile.objects.filter(user=request.user).first()
    if profile is None or not profile.photo:
        raise Http404("You have no photo.")
    return photo_response(profile)


def photo_response(profile) -> FileResponse:
    response = FileResponse(profile.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
