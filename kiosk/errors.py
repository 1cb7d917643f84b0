"""Error pages in plain words: never a stack trace."""

import logging

from flask import Flask, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

logger = logging.getLogger("kiosk.errors")

PAGES = {400, 403, 404, 405, 413, 429}


def form_status(form: FlaskForm) -> int:
    """The status of a page with a form: 422 when it was sent back with mistakes, 200 when shown fresh."""
    return 422 if form.is_submitted() else 200


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _render(code: int) -> tuple[str, int]:
    template = f"errors/{code}.html" if code in PAGES else "errors/500.html"
    return render_template(template, code=code), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template("errors/expired.html"), 400


def _http_error(error: HTTPException) -> tuple[dict[str, str], int] | tuple[str, int]:
    assert error.code is not None  # Flask hands an HTTPException without a code to no error handler
    if request.accept_mimetypes.best == "application/json":
        return {"error": error.name}, error.code
    return _render(error.code)


def _unexpected_error(error: Exception) -> tuple[str, int]:
    logger.exception("Unexpected error on %s %s", request.method, request.path)
    return _render(InternalServerError.code)
