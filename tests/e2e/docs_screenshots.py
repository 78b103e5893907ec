"""Copy the best screenshots of the last `make e2e` run into docs/screenshots/ for the README,
cropped to the top of the page and reduced to 256 colours so each stays small.

    .venv/bin/python -m tests.e2e.docs_screenshots
"""

from PIL import Image

from .conftest import SCREENSHOTS
from .stack import ROOT

BEST = {
    "board-overdue-desktop": "board-overdue.png",
    "queue-desktop": "dsl-queue.png",
    "request-form-desktop": "request-form.png",
    "risk-assessment-desktop": "risk-assessment.png",
    "emergency-desktop": "emergency-page.png",
    "board-phone": "board-phone.png",
    "my-visit-phone": "my-visit-phone.png",
    "home-visit-form-phone": "home-visit-form-phone.png",
    "doorstep-not-safe-desktop": "doorstep-not-safe.png",
}
MOST_HEIGHT = {"desktop": 1400, "phone": 1700}


def main() -> None:
    target = ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    for source, name in BEST.items():
        image = Image.open(SCREENSHOTS / f"{source}.png").convert("RGB")
        height = MOST_HEIGHT[source.rsplit("-", 1)[1]]
        image = image.crop((0, 0, image.width, min(image.height, height)))
        image.quantize(colors=256).save(target / name, optimize=True)
        print(f"{name}: {(target / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
