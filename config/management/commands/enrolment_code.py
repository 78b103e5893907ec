"""`manage.py enrolment_code <username> [--email]`: a two-factor enrolment code for a person."""

from django.core.management.base import BaseCommand, CommandError

from config.enrolment import enrolment_code_email, enrolment_code_issue
from schools.models import User


class Command(BaseCommand):
    help = (
        "Issue a single-use, expiring code a person needs to set up her first authenticator "
        "app. Prints it (give it to her in person or by phone), or with --email sends it to her "
        "own email address."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", action="store_true", help="email it to her instead")

    def handle(self, *args, username, email, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"No user {username}.") from error
        if email:
            if not enrolment_code_email(actor=None, user=user):
                raise CommandError(f"{username} has no email address.")
            self.stdout.write(f"Enrolment code emailed to {user.email}.")
        else:
            self.stdout.write(enrolment_code_issue(actor=None, user=user))
