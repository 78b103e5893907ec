"""Demo data: the named people of the tests (tests/conftest.py) and a few more colleagues, two trust
schools and an unrelated one, about 30 fictional pupils in 20 households, and a school week of
visits in every state (config.demo). Running it again changes nothing; `--fresh-day` makes the live
visits (out now, due back in a few minutes) again from the present moment. The people who must sign
in with two factors (DSLs, Heads, managers) are enrolled with an authenticator key and ten backup
codes, printed at the end, so an evaluator can sign in without a phone."""

import datetime
import random

from django.core.management.base import BaseCommand
from django.db import transaction

from schools import services
from schools.models import (
    Carer,
    ContactNumber,
    Household,
    HouseholdRiskFlag,
    Professional,
    Pupil,
    Role,
    School,
    Trust,
    User,
)

DEMO_PASSWORD = "homeward-demo-2026"

# username, first, last, school urn, role, job title, mobile (Ofcom drama range)
PEOPLE = [
    ("sam", "Sam", "Patel", "100001", Role.STAFF, "Attendance officer", "07700 900101"),
    ("tess", "Tess", "Okafor", "100001", Role.STAFF, "Family support worker", "07700 900102"),
    (
        "dana",
        "Dana",
        "Whitfield",
        "100001",
        Role.DSL,
        "Designated Safeguarding Lead",
        "07700 900103",
    ),
    ("hugh", "Hugh", "Marsden", "100001", Role.HEAD, "Headteacher", "07700 900104"),
    ("olive", "Olive", "Grant", "100001", Role.OFFICE, "Office manager", "07700 900105"),
    ("max", "Max", "Fielding", "100001", Role.MANAGER, "Business manager", "07700 900106"),
    ("bea", "Bea", "Lindqvist", "100002", Role.DSL, "Designated Safeguarding Lead", "07700 900107"),
    ("oscar", "Oscar", "Reyes", "900001", Role.DSL, "Designated Safeguarding Lead", "07700 900108"),
    # Colleagues who are out on visits in the living demo (config.demo).
    ("ravi", "Ravi", "Shah", "100001", Role.STAFF, "Learning mentor", "07700 900109"),
    ("nina", "Nina", "Kaur", "100001", Role.STAFF, "Family support worker", "07700 900110"),
    ("kit", "Kit", "Morgan", "100001", Role.STAFF, "Pastoral lead", "07700 900111"),
    ("ade", "Ade", "Bello", "100001", Role.DEPUTY_DSL, "Deputy DSL", "07700 900112"),
    ("lena", "Lena", "Novak", "100002", Role.STAFF, "Attendance officer", "07700 900113"),
    ("joe", "Joe", "Haddad", "100002", Role.STAFF, "Family support worker", "07700 900114"),
]

SCHOOLS = [
    ("100001", "Oakfield Primary School", True),
    ("100002", "Birchwood Academy", True),
    ("900001", "Riverside Community School", False),
]

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Finley",
    "Grace",
    "Harry",
    "Isla",
    "Jacob",
    "Kacper",
    "Layla",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Poppy",
    "Reuben",
    "Sofia",
    "Tyler",
    "Amelia",
    "Zain",
    "Maja",
    "Leo",
    "Ruby",
    "Theo",
    "Hana",
    "Ethan",
    "Freya",
    "Yusuf",
    "Lily",
]
SURNAMES = [
    "Ahmed",
    "Brown",
    "Clarke",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Kowalski",
    "Lewis",
    "Murphy",
    "Nowak",
    "Owen",
    "Price",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
]
STREETS = [
    "Acacia Avenue",
    "Beech Road",
    "Canal Street",
    "Dale View",
    "Elm Grove",
    "Ferry Lane",
    "Gorse Close",
    "Holly Bank",
    "Ivy Terrace",
    "Juniper Way",
    "Kestrel Drive",
    "Larch Court",
    "Mill Lane",
    "Northgate",
    "Orchard Rise",
    "Parkside",
    "Quarry Hill",
    "Rose Street",
    "Station Road",
    "Tanner's Row",
]
POSTCODES = [
    "LS6 1AA",
    "LS6 2BD",
    "LS7 3EF",
    "LS7 4GH",
    "LS8 5JL",
    "LS8 6NP",
    "LS9 7QR",
    "LS9 8ST",
    "LS11 9UW",
    "LS11 0XY",
    "LS12 1AB",
    "LS12 2DE",
    "LS13 3FG",
    "LS13 4HJ",
    "LS14 5LN",
    "LS14 6PQ",
    "LS15 7RS",
    "LS15 8TU",
    "LS16 9WX",
    "LS16 0YZ",
]


class Command(BaseCommand):
    help = (
        "Create demo data (idempotent): the named people, three schools, pupils, households and "
        "a school week of visits in every state."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fresh-day",
            action="store_true",
            help="Cancel today's live visits and make them again from now, so the pair due back "
            "in a few minutes is fresh.",
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            schools, people = self._directory()
        from config.demo import Demo

        demo = Demo(schools=schools, people=people)
        if options["fresh_day"]:
            demo.fresh_day()
        made = demo.build()
        with transaction.atomic():
            codes = {username: _two_factor(user) for username, user in people.items()}

        self.stdout.write(self.style.SUCCESS("Demo data is ready. Everyone's password:"))
        self.stdout.write(f"    {DEMO_PASSWORD}")
        for username, first, _last, urn, role, _title, _mobile in PEOPLE:
            self.stdout.write(f"    {username:<6} {first}, {role.label} at {schools[urn].name}")
        self.stdout.write(
            "Two-factor sign-in: add the key to an authenticator app, or type one of the backup "
            "codes (each works once) when asked for the code:"
        )
        for username, (key, tokens) in codes.items():
            if key:
                self.stdout.write(f"    {username:<6} key {key}   backup codes {' '.join(tokens)}")
        if made:
            self.stdout.write(f"Visits made: {', '.join(made)}.")

    def _directory(self):
        trust, _ = Trust.objects.get_or_create(name="Aire Valley Learning Trust")
        schools = {}
        for urn, name, in_trust in SCHOOLS:
            school = School.objects.filter(urn=urn).first()
            if school is None:
                school = services.school_create(
                    actor=None,
                    name=name,
                    urn=urn,
                    trust=trust if in_trust else None,
                    office_email=f"office@{urn}.school.example",
                    monitor_phone="0113 496 0" + urn[-3:],
                )
            schools[urn] = school

        people = {}
        for username, first, last, urn, role, title, mobile in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@{urn}.school.example",
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                services.staff_profile_save(
                    actor=None,
                    user=user,
                    job_title=title,
                    work_mobile=_e164(mobile),
                    next_of_kin_name=f"{random.Random(username).choice(FIRST_NAMES)} {last}",
                    next_of_kin_relationship="Partner",
                    next_of_kin_phone=_e164("07700 900" + str(200 + len(username))),
                )
            services.membership_add(actor=None, user=user, school=schools[urn], role=role)
            people[username] = user

        oakfield = schools["100001"]
        if oakfield.designated_manager_id is None:
            School.objects.filter(pk=oakfield.pk).update(designated_manager=people["max"])

        if not Household.objects.filter(school=oakfield).exists():
            self._pupils(oakfield, people["dana"], count_households=16, first_pupil=0)
            self._pupils(schools["100002"], people["bea"], count_households=3, first_pupil=24)
            self._pupils(schools["900001"], people["oscar"], count_households=1, first_pupil=28)

        return schools, people

    def _pupils(self, school, recorder, *, count_households: int, first_pupil: int):
        rng = random.Random(f"homeward-{school.urn}")
        social_worker = Professional.objects.create(
            school=school,
            name="Jo Hartley",
            role=Professional.Kind.SOCIAL_WORKER,
            agency="Leeds Children's Social Work Service",
            phone=_e164("0113 496 0500"),
            email="jo.hartley@social-care.example",
        )
        family_support = Professional.objects.create(
            school=school,
            name="Priya Nair",
            role=Professional.Kind.FAMILY_SUPPORT,
            agency="Aire Valley Early Help Hub",
            phone=_e164("0113 496 0501"),
        )
        pupil_index = first_pupil
        for index in range(count_households):
            surname = SURNAMES[(index + first_pupil) % len(SURNAMES)]
            household = Household.objects.create(
                school=school,
                address_line_1=f"{rng.randint(1, 140)} {STREETS[(index + first_pupil) % 20]}",
                town="Leeds",
                postcode=POSTCODES[(index + first_pupil) % 20],
                self_isolating=index == 5,
                self_isolating_since=datetime.date(2026, 11, 20) if index == 5 else None,
            )
            mum = Carer.objects.create(
                household=household,
                name=f"{rng.choice(['Sarah', 'Joanna', 'Fatima', 'Agnieszka', 'Kerry'])} {surname}",
                relationship="Mother",
            )
            ContactNumber.objects.create(
                household=household,
                carer=mum,
                number=_e164(f"07700 900{300 + index + first_pupil:03d}"),
                label="Mother's mobile",
            )
            # Every fourth household has only one number: the data-quality page lists it (R-REQ-8).
            if index % 4 != 3:
                ContactNumber.objects.create(
                    household=household,
                    number=_e164(f"0113 496 0{600 + index + first_pupil:03d}"),
                    label="Grandparent (emergency contact)",
                    emergency_contact=True,
                )
            if index % 5 == 1:
                HouseholdRiskFlag.objects.create(
                    household=household,
                    kind=HouseholdRiskFlag.Kind.DOG,
                    notes="Large dog, usually loose in the front garden.",
                    recorded_by=recorder,
                )
            if index % 7 == 2:
                HouseholdRiskFlag.objects.create(
                    household=household,
                    kind=HouseholdRiskFlag.Kind.AGGRESSIVE_ADULT,
                    notes="Father's ex-partner has been verbally aggressive to staff.",
                    recorded_by=recorder,
                )
            # Siblings: two pupils in every third household.
            for _ in range(2 if index % 3 == 0 else 1):
                year = rng.randint(1, 6)
                pupil = Pupil.objects.create(
                    school=school,
                    household=household,
                    first_name=FIRST_NAMES[pupil_index % len(FIRST_NAMES)],
                    last_name=surname,
                    date_of_birth=datetime.date(2026 - 5 - year, rng.randint(1, 12), 1 + index),
                    year_group=str(year),
                    upn=f"A{school.urn}{pupil_index:06d}",
                    child_protection=index == 2,
                    child_in_need=index == 4,
                    early_help=index % 6 == 1,
                    interpreter_language="Polish" if surname in {"Kowalski", "Nowak"} else "",
                )
                if pupil.child_protection or pupil.child_in_need:
                    pupil.professionals.add(social_worker)
                if pupil.early_help:
                    pupil.professionals.add(family_support)
                pupil_index += 1


def _two_factor(user) -> tuple[str, list[str]]:
    """A demo user who must use two factors (config.security) is enrolled: an authenticator
    key (TOTP, shown grouped in fours) and backup codes (django-otp static tokens), topped up to
    ten. Returns ("", []) for everyone else."""
    import base64

    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from config.security import two_factor_required

    if not two_factor_required(user):
        return "", []
    app = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if app is None:
        app = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    backup, _ = StaticDevice.objects.get_or_create(user=user, name="backup")
    while backup.token_set.count() < 10:
        backup.token_set.create(token=StaticToken.random_token())
    secret = base64.b32encode(app.bin_key).decode()
    key = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return key, list(backup.token_set.order_by("pk").values_list("token", flat=True))


def _e164(number: str) -> str:
    from schools.validators import normalise_uk_phone

    return normalise_uk_phone(number)
