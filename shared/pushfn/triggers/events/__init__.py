"""Event factories for tests (chalice style): each builds one platform's trigger event from a few arguments.

The shapes are copied from the platforms' published samples (FC documentation, ``devsapp/fc3`` event
templates, Powertools for AWS Lambda test events, ``sam local generate-event``), so
a handler can be exercised exactly as FC or Lambda would call it, with no cloud and no sample files
read at run time.
"""
