"""The living demo (`manage.py seed_demo`): Oakfield Primary in the middle of a school week.

Every visit is built through the real services, at the time each step would have happened (the
clock is moved with time-machine while a step runs, and put back after), so the audit trail, the
visit timelines, the chronology, the board and the ladder are all real:

- a draft, two requests waiting for Dana (one with a loose dog, one to a household short of
  numbers), one sent back for changes, one refused, one authorised for later today;
- two pairs out now, one of them due back in a few minutes so the ladder can be watched live;
- one back with its Home Visit record due, one whose record is overdue;
- recorded visits over the last few weeks, one with a concern and actions (one overdue), a
  doorstep visit, a cancelled one; contact-log entries; a visit at Birchwood Academy.

Each visit is found again by its request token (uuid5 of its name), so running the command twice
changes nothing. `--fresh-day` cancels the live visits (authorised for today and out now) and
makes them again from the present moment.
"""

import contextlib
import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from contacts.services import contact_log_create
from records import services as records
from riskassess import services as riskassess
from riskassess.doorstep import missing_steps
from schools.models import ContactNumber, Household, Professional, Pupil, School, User
from tracking import signouts as tracking
from tracking.models import SignOut, TrackingEvent
from visits import authorisation, cancellation, requests
from visits.models import Status, Visit, Visitor

NAMESPACE = uuid.UUID("6f1c1d3e-8f3a-4b7e-9b7a-2f0d5c6a9e01")
LIVE = ("later_today", "out_due_soon", "out_later")


@contextlib.contextmanager
def at(moment: datetime.datetime):
    """Run the step as if it were `moment` (the audit trail records that time)."""
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


def token(name: str, generation: int = 0) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{name}:{generation}")


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def school_day(today: datetime.date, back: int) -> datetime.date:
    """The school day `back` school days before `today` (weekends skipped)."""
    day = today
    while back:
        day -= datetime.timedelta(days=1)
        if day.weekday() < 5:
            back -= 1
    return day


PREPARATION = {
    "refused_entry_plan": "Leave calmly, record it and tell the DSL; no emergency action expected.",
    "expected_present": "Mother and the pupil.",
    "must_not_be_present": "None known.",
    "child_seen": "with_carer",
    "others_attending": "Nobody else.",
    "contingency_plan": "Leave at once if anyone is aggressive; the second visitor calls.",
    "no_access_plan": "Sealed note through the door; a return visit within two school days.",
}
DOORSTEP = {
    "vulnerable_because": "Mother has had periods of low mood; the family is known to Early Help.",
    "last_contact_details": "Phone call with mother: said the children were well.",
    "no_contact_typical": "no",
    "why_escalated": "No answer for eight days and no work returned.",
    "contact_methods_tried": "Phone, text, email and a letter home.",
    "professionals_involved": "Family support worker: told, shares the concern.",
    "agencies_told": "MASH: advised a doorstep visit, then to call back.",
    "dsl_and_head_consulted": "Dana (DSL) and Hugh (Head) agreed this morning.",
    "sibling_schools_considered": "No siblings at other schools.",
}
RECORD = {
    "others_present": "Mother and a younger sibling.",
    "adults_presentation": "Mother calm and welcoming; tired.",
    "home_conditions": "Tidy front room, food in the kitchen.",
    "family_wanted_help": "wanted",
    "help_offered": "Signposted to the food bank; uniform grant form left.",
    "acknowledgement": "signed",
    "outcome": "seen_no_concerns",
    "outcome_details": "Seen and spoken to; returning to school on Monday.",
    "action_required": "Attendance officer to call on Monday at 09:30.",
}
SEEN = {
    "seen": True,
    "spoken_to": True,
    "seen_alone": False,
    "why_not": "Wanted their mother to stay in the room.",
    "child_said": "“I’ve been poorly but I want to come back.”",
    "physical_presentation": "Clean, dressed for the weather.",
    "emotional_presentation": "Smiling, chatty, made eye contact.",
    "clothing": "no_concern",
    "hunger": "no_concern",
    "cleanliness": "no_concern",
}


class Demo:
    def __init__(self, *, schools: dict[str, School], people: dict[str, User], now=None):
        self.schools = schools
        self.people = people
        self.now = (now or timezone.now()).replace(second=0, microsecond=0)
        self.today = timezone.localdate(self.now)
        self.made: list[str] = []

    # --- helpers -------------------------------------------------------------------------

    def household(self, surname: str, school: str = "100001") -> Household:
        pupil = (
            Pupil.objects.filter(school=self.schools[school], last_name=surname)
            .order_by("pk")
            .first()
        )
        return pupil.household

    def pupils(self, surname: str, school: str = "100001") -> list[Pupil]:
        return list(self.household(surname, school).pupils.order_by("pk")[:1])

    def draft(
        self,
        name,
        *,
        surname,
        requester,
        visitors,
        start,
        minutes=60,
        generation=0,
        school="100001",
        **data,
    ) -> Visit:
        pupils = self.pupils(surname, school)
        roles = [Visitor.RoleOnVisit.LEAD] + [Visitor.RoleOnVisit.SECOND] * (len(visitors) - 1)
        fields = {
            "reason": "attendance",
            "purpose": "Ten days absent and no answer on the phone; check on welfare.",
            "announced": True,
            "parents_told_how": "phone",
            "planned_start": start,
            "planned_end": start + datetime.timedelta(minutes=minutes),
            "planned_return": start + datetime.timedelta(minutes=minutes + 30),
            "vehicle": "Blue Ford Fiesta, YA19 KDE",
            # Named on every demo visit, so one made late in the evening can still be submitted
            # (R-REQ-4); the page shows it only on a visit that is out of hours.
            "out_of_hours_manager": self.people["hugh" if school == "100001" else "bea"],
            **data,
        }
        return requests.visit_draft_save(
            actor=self.people[requester],
            school=self.schools[school],
            data=fields,
            pupils=pupils,
            visitors=[(self.people[v], r) for v, r in zip(visitors, roles, strict=False)],
            request_token=token(name, generation),
        )

    def assess(self, visit: Visit, assessor: str, *, medium=False, complete_by=None) -> None:
        rows = []
        for row in riskassess.rows_to_start_with(visit=visit, assessment=None):
            rows.append(
                riskassess.HazardRowInput(
                    key=row.key,
                    severity=row.severity,
                    likelihood=1,
                    controls=row.controls or ("two-visitors",),
                )
            )
        if medium:
            first = rows[0]
            rows[0] = riskassess.HazardRowInput(
                key=first.key, severity=2, likelihood=2, controls=first.controls
            )
        answers = {**PREPARATION, "complete_by": complete_by or visit.planned_start.date()}
        if visit.is_doorstep:
            answers.update(DOORSTEP, last_contact_on=self.today - datetime.timedelta(days=12))
        riskassess.assessment_save(
            actor=self.people[assessor], visit=visit, rows=rows, answers=answers
        )

    def submit(self, visit, requester):
        return requests.visit_submit(
            actor=self.people[requester], visit=visit, warnings_confirmed=True
        )

    def sign_out(self, visit, *, by="olive", back_in: datetime.timedelta) -> SignOut:
        mobiles = {
            v.user_id: v.user.profile.work_mobile
            for v in visit.visitors.select_related("user__profile")
        }
        return tracking.signout_create(
            actor=self.people[by],
            visit=visit,
            expected_return_at=timezone.now() + back_in,
            vehicle=visit.vehicle or "On foot",
            mobiles=mobiles,
        )

    def back(self, visit, *, by="olive"):
        signout = SignOut.objects.get(visit=visit)
        tracking.signout_return(
            actor=self.people[by], signout=signout, went_home=False, via=TrackingEvent.Via.BOARD
        )

    def record(self, visit, by, **overrides):
        fields = {**RECORD, **overrides}
        fields.setdefault("acknowledged_by_name", "Mrs " + visit.household.pupils.first().last_name)
        pupils = {p.pk: dict(SEEN) for p in visit.pupils.all()}
        records.record_save(actor=self.people[by], visit=visit, fields=fields, pupils=pupils)
        records.record_submit(actor=self.people[by], visit=visit)

    def authorised(
        self,
        name,
        *,
        day,
        surname,
        requester,
        visitors,
        authoriser,
        hour=10,
        medium=False,
        generation=0,
        school="100001",
        conditions="",
        **data,
    ) -> Visit:
        """A visit requested the school day before `day` and authorised that afternoon."""
        start = local(day, hour)
        asked = local(school_day(day, 1), 9, 15)
        with at(asked):
            visit = self.draft(
                name,
                surname=surname,
                requester=requester,
                visitors=visitors,
                start=start,
                generation=generation,
                school=school,
                **data,
            )
            self.assess(visit, requester, medium=medium)
            self.submit(visit, requester)
        with at(asked + datetime.timedelta(hours=5)):
            authorisation.visit_authorise(
                actor=self.people[authoriser], visit=visit, conditions=conditions
            )
        visit.refresh_from_db()
        return visit

    def exists(self, name: str, generation: int = 0) -> bool:
        return Visit.objects.filter(request_token=token(name, generation)).exists()

    # --- the week ------------------------------------------------------------------------

    def build(self) -> list[str]:
        steps = [
            ("history_ahmed", self.history_ahmed),
            ("recorded_concern", self.recorded_concern),
            ("doorstep", self.doorstep),
            ("overdue_record", self.overdue_record),
            ("record_due", self.record_due),
            ("draft", self.draft_today),
            ("waiting_dog", self.waiting_dog),
            ("waiting_numbers", self.waiting_numbers),
            ("changes", self.changes_requested),
            ("refused", self.refused),
            ("cancelled", self.cancelled),
            ("birchwood", self.birchwood),
        ]
        for name, step in steps:
            if not self.exists(name):
                with transaction.atomic():
                    step(name)
                self.made.append(name)
        self.live()
        return self.made

    def history_ahmed(self, name):
        """Three weeks ago: a visit recorded with no concerns, and the phone calls before it."""
        day = school_day(self.today, 15)
        household = self.household("Ahmed")
        number = ContactNumber.objects.filter(household=household).order_by("pk").first()
        for back in (3, 2):
            with at(local(school_day(day, back), 9, 5)):
                contact_log_create(
                    actor=self.people["sam"],
                    household=household,
                    counterpart="family",
                    channel="phone",
                    outcome="no_answer",
                    occurred_at=timezone.now(),
                    contact_number=number,
                    notes="No answer; voicemail left asking mother to call the office.",
                )
        visit = self.authorised(
            name,
            day=day,
            surname="Ahmed",
            requester="sam",
            visitors=["sam", "tess"],
            authoriser="dana",
        )
        with at(local(day, 9, 55)):
            self.sign_out(visit, back_in=datetime.timedelta(minutes=95))
        with at(local(day, 11, 20)):
            self.back(visit)
        with at(local(day, 14, 0)):
            self.record(visit, "sam")

    def recorded_concern(self, name):
        """Last week: a visit to a child protection family, a concern raised and two actions,
        one of them now overdue."""
        day = school_day(self.today, 6)
        visit = self.authorised(
            name,
            day=day,
            surname="Clarke",
            requester="dana",
            visitors=["dana", "sam"],
            authoriser="hugh",
            medium=True,
            reason="welfare",
            purpose="Social worker asked us to see the children after a report of shouting.",
            conditions="Phone the office on arrival; do not go in if the ex-partner is there.",
        )
        with at(local(day, 9, 58)):
            self.sign_out(visit, back_in=datetime.timedelta(minutes=90))
        with at(local(day, 11, 10)):
            self.back(visit)
        with at(local(day, 13, 30)):
            self.record(
                visit,
                "dana",
                outcome="seen_concerns",
                outcome_details="Seen; bruise on the forearm, explanation inconsistent.",
                family_wanted_help="not_wanted",
                help_offered="",
            )
            pupil = visit.pupils.first()
            records.concern_raise(
                actor=self.people["dana"],
                visit=visit,
                level="concern",
                pupil=pupil,
                details=f"{pupil.first_name} had a bruise on the left forearm and said "
                "“I fell off the bed”; mother said it happened at the park.",
            )
            records.action_create(
                actor=self.people["dana"],
                visit=visit,
                description="Share the visit record with the allocated social worker.",
                owner=self.people["dana"],
                due_on=school_day(self.today, 4),
                pupil=pupil,
            )
            records.action_create(
                actor=self.people["dana"],
                visit=visit,
                description="Call mother to arrange a meeting in school.",
                owner=self.people["sam"],
                due_on=self.today + datetime.timedelta(days=3),
                pupil=pupil,
            )

    def doorstep(self, name):
        """Four school days ago: a doorstep visit (no entry), every 000 step tried first."""
        day = school_day(self.today, 4)
        start = local(day, 11)
        with at(local(day, 8, 30)):
            visit = self.draft(
                name,
                surname="Owen",
                requester="tess",
                visitors=["tess", "sam"],
                start=start,
                minutes=20,
                kind="doorstep",
                reason="contact_failed",
                purpose="No contact for eight days: a doorstep check that the family is safe.",
            )
            self.assess(visit, "tess")
            for step in missing_steps(visit):
                prefill = step.prefill
                number, professional = prefill.get("contact_number"), prefill.get("professional")
                contact_log_create(
                    actor=self.people["tess"],
                    household=visit.household,
                    visit=visit,
                    counterpart=prefill["counterpart"],
                    channel="phone",
                    outcome="no_answer",
                    occurred_at=timezone.now() - datetime.timedelta(minutes=20),
                    contact_number=ContactNumber.objects.get(pk=number) if number else None,
                    professional=Professional.objects.get(pk=professional)
                    if professional
                    else None,
                    contacted="" if number or professional else "MASH duty desk",
                )
            self.submit(visit, "tess")
        with at(local(day, 9, 15)):
            authorisation.visit_record_head_consultation(
                actor=self.people["hugh"], visit=visit, notes="Agreed: doorstep only."
            )
            authorisation.visit_authorise(actor=self.people["dana"], visit=visit)
        with at(local(day, 10, 55)):
            self.sign_out(visit, back_in=datetime.timedelta(minutes=50))
        with at(local(day, 11, 35)):
            self.back(visit)
        with at(local(day, 12, 0)):
            self.record(
                visit,
                "tess",
                outcome="family_spoken_to",
                family_wanted_help="not_wanted",
                help_offered="",
                outcome_details="Mother spoke at the door; children waved.",
                adults_presentation="Mother tired but friendly at the door.",
            )

    def overdue_record(self, name):
        """Three school days ago, back from the visit, and nobody has written the record."""
        day = school_day(self.today, 3)
        visit = self.authorised(
            name,
            day=day,
            surname="Price",
            requester="tess",
            visitors=["tess", "sam"],
            authoriser="dana",
            hour=13,
        )
        with at(local(day, 12, 55)):
            self.sign_out(visit, back_in=datetime.timedelta(minutes=95))
        with at(local(day, 14, 20)):
            self.back(visit)

    def record_due(self, name):
        """This morning: back at school, the Home Visit record due within 24 hours."""
        start = self.now - datetime.timedelta(hours=3)
        with at(start - datetime.timedelta(hours=20)):
            visit = self.draft(
                name, surname="Murphy", requester="sam", visitors=["sam", "tess"], start=start
            )
            self.assess(visit, "sam")
            self.submit(visit, "sam")
        with at(start - datetime.timedelta(hours=18)):
            authorisation.visit_authorise(actor=self.people["dana"], visit=visit)
        with at(start - datetime.timedelta(minutes=5)):
            self.sign_out(visit, back_in=datetime.timedelta(minutes=90))
        with at(start + datetime.timedelta(minutes=80)):
            self.back(visit)

    def draft_today(self, name):
        with at(self.now - datetime.timedelta(minutes=40)):
            self.draft(
                name,
                surname="Ahmed",
                requester="sam",
                visitors=["sam"],
                start=local(self.today + datetime.timedelta(days=2), 10),
                purpose="Follow-up: attendance has dropped again since the last visit.",
            )

    def waiting_dog(self, name):
        """Waiting for Dana: a household with a dog in the garden (its row in the assessment)."""
        with at(self.now - datetime.timedelta(hours=2)):
            visit = self.draft(
                name,
                surname="Brown",
                requester="tess",
                visitors=["tess", "sam"],
                start=local(self.today + datetime.timedelta(days=1), 10, 30),
                reason="early_help",
                purpose="Start the Early Help assessment with mother at home.",
            )
            self.assess(visit, "tess")
            self.submit(visit, "tess")

    def waiting_numbers(self, name):
        """Waiting for Dana: an evening visit to a household with one number (both warnings
        confirmed by Sam, shown to Dana)."""
        with at(self.now - datetime.timedelta(minutes=50)):
            visit = self.draft(
                name,
                surname="Davies",
                requester="sam",
                visitors=["sam", "tess"],
                start=local(self.today + datetime.timedelta(days=1), 18, 30),
                out_of_hours_manager=self.people["hugh"],
                purpose="Father works days; the only time to meet both parents.",
            )
            self.assess(visit, "sam")
            self.submit(visit, "sam")

    def changes_requested(self, name):
        with at(self.now - datetime.timedelta(days=1, hours=1)):
            visit = self.draft(
                name,
                surname="Green",
                requester="sam",
                visitors=["sam", "tess"],
                start=local(self.today + datetime.timedelta(days=3), 9, 30),
            )
            self.assess(visit, "sam")
            self.submit(visit, "sam")
        with at(self.now - datetime.timedelta(hours=22)):
            authorisation.visit_request_changes(
                actor=self.people["dana"],
                visit=visit,
                what_to_change="Mother works mornings: make it after 14:00, and say how she was "
                "told about the visit.",
            )

    def refused(self, name):
        with at(self.now - datetime.timedelta(days=2)):
            visit = self.draft(
                name,
                surname="Hussain",
                requester="tess",
                visitors=["tess", "sam"],
                start=local(self.today + datetime.timedelta(days=1), 14),
            )
            self.assess(visit, "tess")
            self.submit(visit, "tess")
        with at(self.now - datetime.timedelta(days=1, hours=20)):
            authorisation.visit_refuse(
                actor=self.people["hugh"],
                visit=visit,
                reason="Attendance is improving this week; invite mother in to school instead.",
            )

    def cancelled(self, name):
        with at(self.now - datetime.timedelta(days=1, hours=3)):
            visit = self.draft(
                name,
                surname="Nowak",
                requester="sam",
                visitors=["sam", "tess"],
                start=local(self.today + datetime.timedelta(days=1), 11),
                interpreter_needed=True,
                interpreter_language="Polish",
            )
            self.assess(visit, "sam")
            self.submit(visit, "sam")
        with at(self.now - datetime.timedelta(hours=5)):
            cancellation.visit_cancel(
                actor=self.people["sam"],
                visit=visit,
                reason="Mother phoned: Maja is back in school tomorrow.",
            )

    def birchwood(self, name):
        """The trust's other school: Lena's request, waiting for Bea to authorise it."""
        with at(self.now - datetime.timedelta(hours=3)):
            visit = self.draft(
                name,
                surname=Pupil.objects.filter(school=self.schools["100002"])
                .order_by("pk")
                .first()
                .last_name,
                school="100002",
                requester="lena",
                visitors=["lena", "joe"],
                start=local(self.today + datetime.timedelta(days=1), 10),
            )
            self.assess(visit, "lena")
            self.submit(visit, "lena")

    # --- the live part -------------------------------------------------------------------

    def live(self) -> None:
        """Authorised for later today, and two pairs out now (one due back in a few minutes).
        Made once; `fresh_day` makes them again from now."""
        if self.exists("out_due_soon", self.live_generation()):
            return
        self.live_build(self.live_generation())

    def live_generation(self) -> int:
        generation = 0
        while self.exists("out_due_soon", generation + 1):
            generation += 1
        return generation

    def fresh_day(self) -> None:
        generation = self.live_generation()
        reset = self.people["olive"]
        for name in LIVE:
            visit = Visit.objects.filter(request_token=token(name, generation)).first()
            if visit is not None and visit.status in (Status.AUTHORISED, Status.OUT):
                cancellation.visit_cancel(
                    actor=reset, visit=visit, reason="Demo reset: a fresh day (seed_demo)."
                )
        next_generation = generation + 1 if self.exists("out_due_soon", generation) else 0
        self.live_build(next_generation)

    def live_build(self, generation: int) -> None:
        with transaction.atomic():
            asked = self.now - datetime.timedelta(hours=3)
            with at(asked):
                later = self.draft(
                    "later_today",
                    surname="Jones",
                    requester="sam",
                    visitors=["sam", "tess"],
                    start=self.now + datetime.timedelta(hours=2),
                    generation=generation,
                    reason="welfare",
                    purpose="Mother asked for help with the children's bedtimes and mornings.",
                )
                self.assess(later, "sam", medium=True)
                self.submit(later, "sam")
                soon = self.draft(
                    "out_due_soon",
                    surname="Kowalski",
                    requester="ravi",
                    visitors=["ravi", "nina"],
                    start=self.now - datetime.timedelta(minutes=50),
                    minutes=40,
                    generation=generation,
                    interpreter_needed=True,
                    interpreter_language="Polish",
                    vehicle="Silver Toyota Yaris, YD68 LMO",
                )
                self.assess(soon, "ravi")
                self.submit(soon, "ravi")
                out = self.draft(
                    "out_later",
                    surname="Lewis",
                    requester="kit",
                    visitors=["kit", "ade"],
                    start=self.now - datetime.timedelta(minutes=20),
                    minutes=80,
                    generation=generation,
                    reason="medical_absence",
                    vehicle="Red Vauxhall Corsa, YF21 ABC",
                )
                self.assess(out, "kit")
                self.submit(out, "kit")
            with at(asked + datetime.timedelta(minutes=30)):
                authorisation.visit_authorise(
                    actor=self.people["dana"],
                    visit=later,
                    conditions="Phone the office on arrival. Do not go in if the ex-partner "
                    "is there.",
                )
                authorisation.visit_authorise(
                    actor=self.people["dana"],
                    visit=soon,
                    conditions="Phone the office on arrival.",
                )
                authorisation.visit_authorise(
                    actor=self.people["hugh"],
                    visit=out,
                    conditions="Do not enter if the dog is loose.",
                )
            with at(self.now - datetime.timedelta(minutes=55)):
                # Due back a few minutes from now: watch the board go amber, then the ladder.
                self.sign_out(soon, back_in=datetime.timedelta(minutes=61))
            with at(self.now - datetime.timedelta(minutes=25)):
                self.sign_out(out, back_in=datetime.timedelta(minutes=115))
        self.made.append("live")
