"""Numbers read from text that came from outside: a query string, a form's hidden key, a header."""


def is_whole_number(text: str) -> bool:
    """True when `text` is one or more of the digits 0-9 and nothing else, so `int(text)` reads
    it. `str.isdigit()` alone is not enough: it accepts "²", which `int()` refuses."""
    return text.isascii() and text.isdigit()
