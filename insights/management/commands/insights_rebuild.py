"""`manage.py insights_rebuild`: count every day of the leaders' figures again (after data loaded
by hand). Safe at any time: dashboards opened meanwhile wait for it, then show the new figures."""

import time

from django.core.management.base import BaseCommand

from insights.summaries import summaries_refresh


class Command(BaseCommand):
    help = "Count every school day of the leaders' dashboards again from the visits."

    def handle(self, *args, **options):
        began = time.perf_counter()
        rows = summaries_refresh(rebuild=True)
        self.stdout.write(f"{rows} school days counted in {time.perf_counter() - began:.1f} s.")
