"""What a visitor's phone and the office board show of a visit that is out: the address, a
one-tap call to the office, and the authoriser's conditions (R-AUTH-4)."""

from django.urls import reverse

from .conftest import authorised_visit, sign_out


def test_my_visit_shows_the_address_a_call_to_the_office_and_the_conditions(
    signed_in, clock, sam, tess, dana, olive, max, pupil, oakfield
):
    # R-AUTH-4: the conditions the authoriser set reach the visitors while they are out

    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    visit = authorised_visit(sam, pupil, [sam, tess], dana)
    visit.authorisations.update(conditions="Do not enter if the dog is loose.")
    sign_out(visit, olive)
    page = signed_in(sam).get(reverse("tracking:mine")).content.decode()
    assert "12 Elm Grove" in page
    assert 'href="tel:+447700900500"' in page and "Call the office" in page
    assert "Do not enter if the dog is loose." in page


def test_the_board_shows_the_conditions_of_each_visit_out(
    signed_in, clock, sam, tess, dana, olive, pupil
):
    visit = authorised_visit(sam, pupil, [sam, tess], dana)
    visit.authorisations.update(conditions="Phone the office on arrival.")
    sign_out(visit, olive)
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "Conditions" in page and "Phone the office on arrival." in page


def test_a_visit_without_conditions_shows_none(signed_in, clock, signout, olive, sam):
    assert "Conditions" not in signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "Conditions:" not in signed_in(sam).get(reverse("tracking:mine")).content.decode()


def test_back_at_school_on_the_phone_asks_first_then_leads_to_the_record(
    signed_in, clock, signout, sam
):
    # R-TRK-2 (back at school), R-REC-3 (the record is due within 24 hours)
    client = signed_in(sam)
    page = client.get(reverse("tracking:mine")).content.decode()
    confirm = reverse("tracking:returned", args=[signout.pk])
    assert f'href="{confirm}?next=' in page, "a link to a confirmation, not a one-tap form"
    asked = client.get(confirm).content.decode()
    assert "sign them in" in asked and "Back at school" in asked
    signout.refresh_from_db()
    assert signout.state == "out"
    response = client.post(confirm, {"next": reverse("tracking:mine")})
    assert response["Location"] == reverse("records:record_edit", args=[signout.visit_id])
    page = client.get(response["Location"]).content.decode()
    assert "The Home Visit record is due within 24 hours" in page


def test_the_office_signing_visitors_in_stays_on_the_board(signed_in, clock, signout, olive):
    response = signed_in(olive).post(reverse("tracking:returned", args=[signout.pk]))
    assert response["Location"] == reverse("tracking:board")


def test_the_confirmation_says_when_the_manager_case_is_still_open(signed_in, clock, signout, sam):
    from django.utils import timezone

    type(signout).objects.filter(pk=signout.pk).update(manager_alerted_at=timezone.now())
    page = signed_in(sam).get(reverse("tracking:returned", args=[signout.pk])).content.decode()
    assert "the case is still open" in page
