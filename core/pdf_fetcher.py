"""The one URL fetcher every WeasyPrint render uses (issue 19, cheap insurance).

A PDF may reference Homeward's own static files (stylesheets, images) and nothing else: no
`file:` outside the static folders (say /etc/passwd), no `http:`/`https:` (say a service on
127.0.0.1 only the server can reach), no `ftp:`, no `data:`. A refused URL raises, WeasyPrint
logs a warning and renders without it; nothing is fetched.
"""

import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse


class RefusedURL(ValueError):
    """A PDF asked for something that is not one of Homeward's static files."""


def _static_roots() -> list[Path]:
    roots = [Path(folder) for folder in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def static_file_for(url: str) -> Path | None:
    """The static file `url` names, or None. Accepts `file:` URLs inside a static folder (what a
    relative `static/...` becomes against the base URL) and `/static/...` paths."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = unquote(parts.path)
    static_url = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
    if path.startswith(static_url):
        found = finders.find(path[len(static_url) :])
        candidate = Path(found).resolve() if isinstance(found, str) else None
    else:
        candidate = Path(path).resolve()
    if candidate is None or not candidate.is_file():
        return None
    for root in _static_roots():
        if candidate.is_relative_to(root):
            return candidate
    return None


class StaticOnlyURLFetcher(URLFetcher):
    def __init__(self, pictures: dict[str, bytes] | None = None):
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
        self.pictures = dict(pictures or {})

    def fetch(self, url, headers=None):
        if url in self.pictures:
            # A picture the view read itself and named (a staff photo on the Police briefing).
            return URLFetcherResponse(url, self.pictures[url])
        path = static_file_for(url)
        if path is None:
            raise RefusedURL(f"PDFs may use Homeward's own static files only, not {url[:80]!r}.")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())


def static_only_url_fetcher(pictures: dict[str, bytes] | None = None) -> StaticOnlyURLFetcher:
    """Give this to every weasyprint.HTML(...) and CSS(...) as `url_fetcher`. `pictures`: exact
    URLs (file:///private/…) the view has read itself, and their bytes; nothing else is added."""
    return StaticOnlyURLFetcher(pictures)


_fonts = threading.local()


def shared_font_config() -> FontConfiguration:
    """One WeasyPrint FontConfiguration per process (per thread, for a threaded dev server):
    building one asks fontconfig to load and match the system's fonts again, most of a small
    PDF's cost (issue 15). Give it to every HTML(...).write_pdf(...) and CSS(...) as
    `font_config`; what is drawn is the same, only the lookup is kept."""
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config
