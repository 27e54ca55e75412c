"""Event factories for tests (chalice style): each builds one platform's trigger event from a few arguments.

The shapes are copied from the published samples (see ``/work/shared/reference/events/README.md``), so
a handler can be exercised exactly as FC or Lambda would call it, with no cloud and no sample files
read at run time.
"""
