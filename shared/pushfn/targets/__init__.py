"""Files of targets: the platform-free part of the object-upload function.

A reader (OSS, S3, a local folder) hands over a binary stream and the object name;
:class:`~pushfn.targets.formats.TargetRows` streams it into rows (``.txt``, ``.csv``, ``.jsonl``, each
optionally ``.gz``), each line checked by :mod:`pushfn.targets.rules`;
:func:`~pushfn.targets.chunks.plan_chunks` drops duplicates and groups the valid targets into
``Push``/``MassPush`` chunks to the API's limits, each with a deterministic index and idempotency key
(:func:`~pushfn.targets.chunks.chunk_key`); :class:`~pushfn.targets.report.Report` records every
line's fate and every chunk's outcome. Nothing here sends, reads a bucket or looks at settings.

Usage::

    from pushfn.targets.chunks import chunk_key, plan_chunks
    from pushfn.targets.formats import TargetRows
    from pushfn.targets.report import Report

    report = Report(bucket="b", key="lists/july.csv.gz", version=etag)
    rows = TargetRows(body, "lists/july.csv.gz")          # UnsupportedFormatError for other names
    report.format = rows.format.to_dict()
    for chunk in plan_chunks(rows, content, report):
        key = chunk_key("b", "lists/july.csv.gz", etag, chunk.index)
        ...                                                 # send chunk.action with chunk.params
    assert not report.invariant_problems()

This package imports the push models (for the per-item limits); the function should import it
inside its handler, not at module level, to keep cold starts light.
"""
