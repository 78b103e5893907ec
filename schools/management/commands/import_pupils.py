from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schools.imports import ImportRejected, pupils_import
from schools.models import School


class Command(BaseCommand):
    help = "Import pupils, households, carers and numbers from a MIS CSV (docs/import-pupils.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--school", required=True, help="The school's URN.")

    def handle(self, *args, file: Path, school: str, **options):
        target = School.objects.filter(urn=school).first()
        if target is None:
            raise CommandError(f"No school has the URN {school}.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            result = pupils_import(actor=None, school=target, text=text)
        except ImportRejected as rejected:
            raise CommandError(
                "Nothing was imported. Fix these rows and run the import again:\n"
                + "\n".join(f"  {problem}" for problem in rejected.problems)
            ) from rejected
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported into {target.name}: {result.pupils_created} new pupils, "
                f"{result.pupils_updated} updated, {result.households_created} new households."
            )
        )
