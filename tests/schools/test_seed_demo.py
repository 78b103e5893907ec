from django.core.management import call_command

from audit.models import AuditEvent
from schools.models import ContactNumber, Household, Membership, Pupil, School, User


def _counts():
    return [
        m.objects.count()
        for m in (School, User, Membership, Household, Pupil, ContactNumber, AuditEvent)
    ]


def test_seed_demo_creates_the_named_people_and_running_it_twice_changes_nothing(db, capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert set(User.objects.values_list("username", flat=True)) >= {
        "sam",
        "tess",
        "dana",
        "hugh",
        "olive",
        "max",
        "bea",
        "oscar",
    }
    assert 25 <= Pupil.objects.count() <= 35
    assert 15 <= Household.objects.count() <= 25
    assert "homeward-demo-2026" in capsys.readouterr().out


def test_seed_demo_has_siblings_risk_flags_and_households_short_of_numbers(db):
    from django.db.models import Count

    call_command("seed_demo")
    households = Household.objects.annotate(
        n_pupils=Count("pupils", distinct=True),
        n_numbers=Count("contact_numbers", distinct=True),
    )
    assert households.filter(n_pupils__gte=2).exists()
    assert households.filter(n_numbers__lt=2).exists()  # R-REQ-8 data-quality examples
    assert households.filter(risk_flags__isnull=False).exists()


def test_demo_dana_can_sign_in_with_the_printed_password(client, db):
    call_command("seed_demo")
    from tests.auth import sign_in_with_password

    sign_in_with_password(client, "dana", "homeward-demo-2026")
    assert "_auth_user_id" in client.session
