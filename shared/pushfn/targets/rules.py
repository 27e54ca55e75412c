"""The rules of one target value: the same checks the HTTP function applies to one identifier.

Each check is :mod:`pushfn.identifiers`' (one rule set per kind of identifier, wherever it
arrives), returning ``(rule, message)`` of the first rule broken, or ``None``:

=====================  ==========================================================================
rule                   refused
=====================  ==========================================================================
``device_id``          a DEVICE target that is not exactly 32 ASCII letters or digits
``max_bytes``          an ACCOUNT longer than 64 UTF-8 bytes, an ALIAS longer than 128
``single_value``       a comma anywhere (``TargetValue`` is a comma-separated list)
``control_character``  a C0 or C1 control character (U+0000-U+001F, U+007F-U+009F), tab included
``required``           nothing left after trimming surrounding whitespace (CSV and JSON lines)
=====================  ==========================================================================

The file readers trim surrounding whitespace before these rules run; whitespace inside a value is kept.
"""

from __future__ import annotations

from pushfn.identifiers import check_account, check_alias, check_device_id

#: The target types a file may hold, as ``Target`` spells them.
TARGET_TYPES = ("DEVICE", "ACCOUNT", "ALIAS")
#: How a CSV header's first column or a JSON line's key names each target type.
TARGET_FIELDS = {"device_id": "DEVICE", "account": "ACCOUNT", "alias": "ALIAS"}
#: The check of each target type: ``check(value) -> (rule, message) | None``.
CHECKS = {"DEVICE": check_device_id, "ACCOUNT": check_account, "ALIAS": check_alias}


def check_target(target_type: str, value: str) -> tuple[str, str] | None:
    """The rule ``value`` breaks as one target of ``target_type`` (``DEVICE``, ``ACCOUNT``, ``ALIAS``), or None."""
    return CHECKS[target_type](value)


__all__ = ["CHECKS", "TARGET_FIELDS", "TARGET_TYPES", "check_target"]
