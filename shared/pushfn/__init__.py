"""pushfn: serverless functions that send mobile pushes through Alibaba Cloud Push.

The public, stable surface lives in the sub-packages:

- :mod:`pushfn.push` — signing, credentials, request models, the client and its errors;
- :mod:`pushfn.idempotency` — the duplicate guard and its stores;
- :mod:`pushfn.triggers` — platform event adapters;
- :mod:`pushfn.emulator` — the local CloudPush emulator.

Nothing heavy is imported here: a function's cold start pays only for what it uses.
"""

__version__ = "0.1.0"
