"""Small helpers the views share: links that leave the site, paths that must stay on it, CSV downloads."""

import io
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

from flask import Response, current_app, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL a tablet or a pupil's browser can open (pairing links, consent withdrawal links)."""
    # Behind a proxy the request's host may be an internal name; KIOSK_PUBLIC_URL is what the tablet can reach.
    public = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)


def local_path(target: str, within: str = "/") -> str | None:
    """`target` if it is a path on this site under `within`, else None: a `next` link (the language picker's, the
    admin alert banner's) must not become an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(within) or "//" in target or "\\" in target:
        return None
    return None if any(ord(c) < 32 for c in target) else target


def csv_download(filename: str, write: Callable[[IO[str]], int]) -> tuple[Response, int]:
    """A CSV file the browser saves as `filename`, and how many rows `write` (given the stream) says it wrote."""
    stream = io.StringIO(newline="")
    count = write(stream)
    response = current_app.response_class(stream.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response, count
