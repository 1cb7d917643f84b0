"""Error pages in plain words: never a stack trace."""

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

logger = logging.getLogger("kiosk.errors")

PAGES = {400, 403, 404, 405, 413, 429}

# An API's own error body for its errors, by URL prefix: (status, detail) -> response.
ApiErrorRenderer = Callable[[int, str], Response]


def form_status(form: FlaskForm) -> int:
    """The status of a page with a form: 422 when it was sent back with mistakes, 200 when shown fresh."""
    return 422 if form.is_submitted() else 200


def register_api_errors(app: Flask, prefix: str, render: ApiErrorRenderer) -> None:
    """Answer every error under `prefix` (a 404 for a path no route has, too) with `render` instead of a page."""
    app.extensions.setdefault("api_errors", {})[prefix.rstrip("/")] = render


def _api_renderer() -> ApiErrorRenderer | None:
    for prefix, render in current_app.extensions.get("api_errors", {}).items():
        if request.path == prefix or request.path.startswith(f"{prefix}/"):
            return render
    return None


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _render(code: int) -> tuple[str, int]:
    template = f"errors/{code}.html" if code in PAGES else "errors/500.html"
    return render_template(template, code=code), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template("errors/expired.html"), 400


def _http_error(error: HTTPException) -> tuple[dict[str, str], int] | tuple[str, int] | Response:
    assert error.code is not None  # Flask hands an HTTPException without a code to no error handler
    render = _api_renderer()
    if render is not None:
        return render(error.code, error.description or error.name)
    if request.accept_mimetypes.best == "application/json":
        return {"error": error.name}, error.code
    return _render(error.code)


def _unexpected_error(error: Exception) -> tuple[str, int] | Response:
    logger.exception("Unexpected error on %s %s", request.method, request.path)
    render = _api_renderer()
    if render is not None:
        return render(InternalServerError.code, "An unexpected error occurred.")
    return _render(InternalServerError.code)
