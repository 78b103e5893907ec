"""R-ESC-9: the Headteacher and the DSL order the school's escalation chain and set its minutes
on a page: plain buttons (no script), every change audited, bad input explained and nothing
lost; other roles 403, another school's chain 404; the page's queries do not grow with it."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from schools.models import EscalationChainMember, Role
from tests.factories import person
from tests.records.conftest import queries_for


def url(school):
    return reverse("tracking:chain_settings", args=[school.pk])


def order(school):
    return list(
        EscalationChainMember.objects.filter(school=school)
        .order_by("position")
        .values_list("user__username", flat=True)
    )


@pytest.fixture
def deputies(oakfield):
    return [person(f"deputy{n}", oakfield, Role.DEPUTY_DSL) for n in range(1, 4)]


def test_the_head_adds_people_and_orders_them_with_buttons(signed_in, hugh, oakfield, deputies):
    # R-ESC-9
    client = signed_in(hugh)
    page = client.get(url(oakfield))
    assert page.status_code == 200
    assert "Escalation chain" in page.content.decode()
    for deputy in deputies:
        response = client.post(url(oakfield), {"action": "add", "user": deputy.pk})
        assert response.status_code == 302
    assert order(oakfield) == ["deputy1", "deputy2", "deputy3"]
    third = EscalationChainMember.objects.get(user=deputies[2])
    client.post(url(oakfield), {"action": "up", "member": third.pk})
    assert order(oakfield) == ["deputy1", "deputy3", "deputy2"]
    first = EscalationChainMember.objects.get(user=deputies[0])
    client.post(url(oakfield), {"action": "down", "member": first.pk})
    assert order(oakfield) == ["deputy3", "deputy1", "deputy2"]
    # The first cannot go higher, the last no lower: nothing changes.
    top = EscalationChainMember.objects.get(user=deputies[2])
    client.post(url(oakfield), {"action": "up", "member": top.pk})
    assert order(oakfield) == ["deputy3", "deputy1", "deputy2"]
    client.post(url(oakfield), {"action": "remove", "member": top.pk})
    assert order(oakfield) == ["deputy1", "deputy2"]
    assert list(
        EscalationChainMember.objects.filter(school=oakfield)
        .order_by("position")
        .values_list("position", flat=True)
    ) == [1, 2]
    whats = [
        e.changes["what"]
        for e in AuditEvent.objects.filter(event_type="school.escalation_chain_changed").order_by(
            "pk"
        )
    ]
    assert whats == ["added", "added", "added", "moved up", "moved down", "removed"]
    page = client.get(url(oakfield)).content.decode()
    assert page.index("Deputy1 Example") < page.index("Deputy2 Example")
    assert "Move up" in page and "Move down" in page


def test_the_dsl_sets_the_chain_minutes(signed_in, dana, oakfield):
    # R-ESC-9: the minutes are school settings.
    client = signed_in(dana)
    response = client.post(
        url(oakfield),
        {"action": "minutes", "chain_step_minutes": "3", "chain_reminder_minutes": "15"},
    )
    assert response.status_code == 302
    oakfield.refresh_from_db()
    assert (oakfield.chain_step_minutes, oakfield.chain_reminder_minutes) == (3, 15)
    event = AuditEvent.objects.get(event_type="school.escalation_chain_changed")
    assert event.changes == {"what": "minutes", "before": [5, 10], "after": [3, 15]}


@pytest.mark.parametrize(
    "step, reminder, message",
    [
        ("0", "10", "Give at least 1 minute."),
        ("five", "10", "Give a whole number of minutes, like 5."),
        ("5", "", "Give a number of minutes."),
        ("5", "500", "Give at most 120 minutes."),
    ],
)
def test_bad_minutes_are_explained_and_nothing_is_saved(
    signed_in, hugh, oakfield, step, reminder, message
):
    # R-ESC-9
    response = signed_in(hugh).post(
        url(oakfield),
        {"action": "minutes", "chain_step_minutes": step, "chain_reminder_minutes": reminder},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    # What was typed is still in the form.
    assert f'value="{step}"' in response.content.decode() or step == ""
    oakfield.refresh_from_db()
    assert (oakfield.chain_step_minutes, oakfield.chain_reminder_minutes) == (5, 10)
    assert not AuditEvent.objects.filter(event_type="school.escalation_chain_changed").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "add", "user": ""}, "Choose somebody to add to the chain."),
        ({"action": "add", "user": "abc"}, "That change was not understood"),
        ({"action": "remove", "member": "999999"}, "no longer in the chain"),
        ({"action": "explode"}, "That change was not understood"),
    ],
)
def test_bad_changes_are_explained_and_change_nothing(signed_in, hugh, oakfield, data, message):
    # R-ESC-9
    response = signed_in(hugh).post(url(oakfield), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert order(oakfield) == []


def test_somebody_from_another_school_cannot_be_added(signed_in, hugh, oakfield, bea):
    # R-ESC-9: only the school's own staff.
    response = signed_in(hugh).post(url(oakfield), {"action": "add", "user": bea.pk})
    assert response.status_code == 400
    assert "Choose somebody on the school&#x27;s staff." in response.content.decode()
    assert order(oakfield) == []


@pytest.mark.parametrize("who", ["sam", "olive", "max"])
def test_other_roles_are_refused(request, signed_in, oakfield, who):
    # R-ESC-9: the Headteacher and the DSL only.
    user = request.getfixturevalue(who)
    client = signed_in(user)
    assert client.get(url(oakfield)).status_code == 403
    assert client.post(url(oakfield), {"action": "add", "user": user.pk}).status_code == 403
    assert client.get(reverse("tracking:chain_settings_home")).status_code == 403
    assert order(oakfield) == []


def test_another_schools_chain_does_not_exist_for_them(signed_in, bea, oakfield, hugh):
    # R-ESC-9, R-SEC-1
    client = signed_in(bea)
    assert client.get(url(oakfield)).status_code == 404
    assert client.post(url(oakfield), {"action": "add", "user": hugh.pk}).status_code == 404


def test_the_head_finds_the_page_in_the_menu(signed_in, hugh, oakfield):
    # R-ESC-9
    client = signed_in(hugh)
    home = client.get(reverse("visits:queue")).content.decode()
    assert reverse("tracking:chain_settings_home") in home
    response = client.get(reverse("tracking:chain_settings_home"))
    assert response.status_code == 302 and response["Location"] == url(oakfield)


def test_the_page_costs_the_same_queries_for_a_short_and_a_long_chain(
    signed_in, hugh, oakfield, deputies
):
    # R-ESC-9: constant query count.
    client = signed_in(hugh)
    client.post(url(oakfield), {"action": "add", "user": deputies[0].pk})
    few, _ = queries_for(client, url(oakfield))
    for n in range(4, 12):
        member = person(f"deputy{n}", oakfield, Role.DEPUTY_DSL)
        client.post(url(oakfield), {"action": "add", "user": member.pk})
    client.post(url(oakfield), {"action": "add", "user": deputies[1].pk})
    many, response = queries_for(client, url(oakfield))
    assert len(order(oakfield)) == 10
    assert many == few
    assert "Deputy11 Example" in response.content.decode()
