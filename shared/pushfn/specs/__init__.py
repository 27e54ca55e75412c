"""Declarative inputs shared by several functions: named message templates (:mod:`.templates`)."""
