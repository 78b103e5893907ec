"""Issue 19, cheap insurance: WeasyPrint fetches Homeward's own static files and nothing else."""

import http.server
import threading

import pytest
from django.conf import settings
from weasyprint import HTML

from core.pdf_fetcher import RefusedURL, static_only_url_fetcher
from records import pdf


@pytest.fixture
def local_server():
    """An HTTP server on 127.0.0.1 that counts the requests it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


HOSTILE = """<html><head>
<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">
<link rel="stylesheet" href="file:///etc/passwd">
<style>@import url("http://127.0.0.1:{port}/imported.css");
body {{ background: url("http://127.0.0.1:{port}/bg.png") }}</style>
</head><body>
<img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/img.png">
<img src="https://127.0.0.1:{port}/secure.png"><img src="../../../../../etc/hostname">
<iframe src="http://127.0.0.1:{port}/frame"></iframe>
<p>Text</p></body></html>"""


def test_a_pdf_template_referencing_local_files_or_addresses_fetches_nothing(local_server):
    # Issue 19: a template naming file:///etc/passwd or http://127.0.0.1:<port>/ gets nothing.
    port, hits = local_server
    document = HTML(
        string=HOSTILE.format(port=port),
        base_url=str(settings.BASE_DIR),
        url_fetcher=static_only_url_fetcher(),
    )
    content = document.write_pdf()
    assert content.startswith(b"%PDF-")
    assert hits == []
    assert b"root:" not in content


def test_the_shared_fetcher_refuses_everything_but_homewards_static_files():
    fetcher = static_only_url_fetcher()
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:8000/",
        "https://example.org/x.css",
        "data:text/css,body{}",
        "ftp://example.org/x",
        f"file://{settings.BASE_DIR}/config/settings.py",
        f"file://{settings.BASE_DIR}/static/../config/settings.py",
        "file://evil.example/static/css/homeward.css",
    ):
        with pytest.raises(RefusedURL):
            fetcher(url)
    own = fetcher(f"file://{settings.BASE_DIR}/static/css/briefing.css")
    assert own.read()
    assert fetcher("file:///static/css/homeward.css").read()


def test_every_pdf_render_uses_the_shared_fetcher(monkeypatch, oakfield, sam):
    # records.pdf passes it (and so every records PDF); a blank form still renders.
    seen = []
    real_html = pdf.HTML

    def spy(*args, **kwargs):
        seen.append(kwargs.get("url_fetcher"))
        return real_html(*args, **kwargs)

    monkeypatch.setattr(pdf, "HTML", spy)
    assert pdf.blank_form_pdf(form="home-visit-form", school=oakfield, printed_by=sam)
    assert seen and all(fetcher is not None for fetcher in seen)


def test_no_weasyprint_render_is_left_without_the_fetcher():
    # Issue 19: every HTML(...) in the app's code names url_fetcher.
    import re
    from pathlib import Path

    missing = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if path.parts[len(Path(settings.BASE_DIR).parts)] in {".venv", "tests", "bench"}:
            continue
        text = path.read_text()
        for call in re.finditer(r"\b(HTML|CSS)\(", text):
            arguments = text[call.end() : call.end() + 200].split("\n\n")[0]
            if ("string=" in arguments or "filename=" in arguments) and (
                "url_fetcher" not in arguments
            ):
                missing.append(f"{path}: {arguments[:60]}")
    assert missing == []
