"""pydantic's ``ValidationError`` -> :class:`InvalidRequestError` naming API fields.

Translated here, at the edge of the models package, so callers never see pydantic errors. The
translation itself is :func:`pushfn.problems.problems_from_validation` (the one translator of every
input path), in its CloudPush-parameter convention: ``PushTask.1.Title``, rule ids such as
``required`` / ``max_items`` / ``enum``.
"""

from __future__ import annotations

from typing import Any

from pushfn.problems import printable as printable
from pushfn.problems import problems_from_validation
from pushfn.push.errors import InvalidRequestError


def invalid_request_error(exc: Any, model: Any = None) -> InvalidRequestError:
    """All of ``exc``'s errors (a pydantic ``ValidationError``) as one InvalidRequestError; ``model``
    is the class validated (its ``action`` names the request, its fields feed "did you mean")."""
    return InvalidRequestError(problems_from_validation(exc, model, api=True), getattr(model, "action", None))
