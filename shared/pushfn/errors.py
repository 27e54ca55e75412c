"""The one base class every pushfn error derives from.

Each sub-package keeps its own errors module (``push.errors``, ``idempotency.exceptions``) so a
caller can catch a family, or everything with :class:`PushfnError`.
"""

from __future__ import annotations


class PushfnError(Exception):
    """Base class of every error pushfn raises on purpose."""


class ConfigurationError(PushfnError):
    """The operator's configuration is wrong (a bad setting, no AppKey, a malformed endpoint or store URL).

    Not the caller's mistake and not transient: the HTTP function answers the ``misconfigured``
    problem, queue functions retry (the message is not at fault), the CLI exits 2.
    """
