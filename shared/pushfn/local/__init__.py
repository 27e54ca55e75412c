"""Local runs without a cloud: handlers invoked from the shell, and sample platform events.

- :mod:`pushfn.local.contexts` — the context objects FC and Lambda hand a handler, faked;
- :mod:`pushfn.local.environ` — an FC 2.0 WSGI ``environ`` as JSON and back;
- :mod:`pushfn.local.sample_events` — ``pushfn event KIND``: one platform event from a few options;
- :mod:`pushfn.local.invoke` — ``pushfn invoke FUNCTION``: one handler, one event, one outcome;
- :mod:`pushfn.local.invoke_cli` — both commands' arguments, output and exit codes.

Nothing here is on a function's path: the deployed handlers never import this package.
"""
