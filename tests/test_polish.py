"""Small things a school meets in its first week (issue 14, point 14)."""

from django.urls import reverse

from tests.auth import authenticator_for, sign_in_with_password


def test_the_sign_in_code_box_is_a_numeric_one_time_code_field_without_spinner_arrows(client, dana):
    authenticator_for(dana)
    page = sign_in_with_password(client, "dana", "correct-horse-battery").content.decode()
    box = next(tag for tag in page.split("<input") if 'name="token-otp_token"' in tag)
    assert 'inputmode="numeric"' in box and 'autocomplete="one-time-code"' in box
    assert 'type="number"' not in box


def test_the_set_up_code_box_is_text_with_a_numeric_keyboard():
    from django import forms
    from two_factor.forms import TOTPDeviceForm

    from config.signin import _plain_labels

    form = _plain_labels(TOTPDeviceForm(key="00" * 20, user=None))
    widget = form.fields["token"].widget
    assert isinstance(widget, forms.TextInput) and not isinstance(widget, forms.NumberInput)
    assert widget.attrs["inputmode"] == "numeric"
    assert widget.attrs["autocomplete"] == "one-time-code"


def test_an_emergency_contact_already_labelled_so_is_not_labelled_twice(
    sam, tess, pupil, household
):
    # R-RA-6: the doorstep steps name each number once
    from riskassess.doorstep import doorstep_steps
    from schools.models import ContactNumber
    from tests.factories import visit_draft

    ContactNumber.objects.filter(household=household, label="Grandparent").update(
        label="Grandparent (emergency contact)", emergency_contact=True
    )
    visit = visit_draft(sam, pupil, [sam, tess], kind="doorstep")
    labels = [step.label for step in doorstep_steps(visit)]
    assert "Call Grandparent (emergency contact)" in labels
    assert not any("(emergency contact) (emergency contact)" in label for label in labels)


def test_the_chronology_filter_is_a_styled_select(signed_in, dana, pupil):
    page = signed_in(dana).get(reverse("records:chronology", args=[pupil.pk])).content.decode()
    select = next(tag for tag in page.split("<select") if 'name="kind"' in tag)
    assert 'class="form-select"' in select


def test_a_wrong_address_shows_a_calm_page_not_the_list_of_every_url(signed_in, sam):
    # `make run` runs without DEBUG: no yellow page listing the URL patterns.
    response = signed_in(sam).get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "URLconf" not in page and "urlpatterns" not in page
