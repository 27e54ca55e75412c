"""``pushfn serve``: the whole system on one machine — the emulator and its inbox, the HTTP function on a
local server, the timer function on the declared schedules, a watched folder as the file function's
bucket, an in-process queue for the queue function and fan-out, idempotency in SQLite in the data folder.

Modules, one job each: :mod:`~pushfn.serve.cli` (the command, its banner, ``--fire``),
:mod:`~pushfn.serve.server` (:class:`~pushfn.serve.server.Serve`: starts and stops the parts, runs the
functions), :mod:`~pushfn.serve.http_server` (the threaded WSGI server and the ``/_serve/`` control routes),
:mod:`~pushfn.serve.workers` (timer, folder watcher, local queue threads), :mod:`~pushfn.serve.schedules`
(cron/rate expressions of both clouds, schedules from ``pushfn.toml`` / SAM / ``s.yaml``),
:mod:`~pushfn.serve.invocations` (local contexts, one log line per invocation),
:mod:`~pushfn.serve.local_auth` (the webhook secret and API key kept in the data folder).

Nothing here is imported on a function's path: the CLI imports :mod:`~pushfn.serve.cli` when it builds
its parser, and that module imports the rest only when ``serve`` runs.
"""
