"""Operator accountability: what AI operators disclose, the evidence behind it, and the public record
the log gives of each operator.

Modules: `vocabulary` (signals, Principle Code items, topics; pure), `documents` (the signed
documents), `manifests` (verifying a compliance manifest, shared with the SDK), `replay` (the log
replayed into the facts a record is made of; pure), `record` (records, ranking and exports from a
replay; pure), `store` (the registry's side: intake and serving). This package imports nothing of
its modules here, so the command line can read the vocabulary without pydantic.
"""
