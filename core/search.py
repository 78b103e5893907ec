"""The text of a search box, read from the query string (?q=…)."""

import unicodedata

from django.http import QueryDict


def search_text(params: QueryDict, *, length: int, name: str = "q") -> str:
    """What the user typed into the search box `name`: control characters (a NUL, which
    PostgreSQL refuses in any text, a tab, a newline) become spaces, the ends are trimmed, and
    at most `length` characters are kept. Nobody types a control character, so a search that
    had one simply finds what the rest of it finds."""
    typed = params.get(name, "")
    readable = "".join(" " if unicodedata.category(char) == "Cc" else char for char in typed)
    return readable.strip()[:length].strip()
