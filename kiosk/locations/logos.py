"""What an uploaded logo really is: its type read from its bytes, never from its name or the browser's word, and
whether an SVG is safe to keep (OWASP File Upload cheat sheet: check the content; SVG is a document that can carry
scripts and load other files). kiosk/walkin/views.logo serves it with a CSP that runs nothing anyway."""

import re

SVG = "image/svg+xml"
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# An XML declaration, comments and a DOCTYPE may come before the <svg> element; nothing else may, nor a DOCTYPE
# with entities of its own (the internal subset in [...]: billion laughs).
_SVG_START = re.compile(r"\A\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>\[]*>\s*)*<svg[\s>/]", re.I | re.S)
# A script, an event handler attribute, a javascript: URL, HTML inside, or a reference
# to anything but a part of the same file (href="#a", url(#a)): an image, a font or a style sheet from elsewhere.
_SVG_UNSAFE = re.compile(r"<script|\bon[a-z]+\s*=|javascript:|<foreignObject|@import"
                         r"""|\bhref\s*=\s*(?!["']?#)|\burl\(\s*(?!["']?#)""", re.I)


def content_type(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, WebP or SVG image by its first bytes; None for anything else."""
    for magic, mimetype in _MAGIC.items():
        if data.startswith(magic):
            return mimetype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    text = _text(data)
    return SVG if text is not None and _SVG_START.match(text) else None


def safe_svg(data: bytes) -> bool:
    """Whether an SVG is only a picture: UTF-8 text without scripts, handlers or references to other files."""
    text = _text(data)
    return text is not None and _SVG_UNSAFE.search(text) is None


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
