"""The one base class every pushfn error derives from.

Each sub-package keeps its own errors module (``push.errors``, ``idempotency.exceptions``) so a
caller can catch a family, or everything with :class:`PushfnError`.
"""

from __future__ import annotations


class PushfnError(Exception):
    """Base class of every error pushfn raises on purpose."""
