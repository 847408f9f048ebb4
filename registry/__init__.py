"""The domain: documents, vocabulary, identifiers, filing rules and persistence.

The modules `vocabulary`, `urls`, `identifiers` and `documents` are pure (stdlib, pydantic and
`keys` only) so the client computes exactly what the server computes. Everything that touches
the database lives in `models`, `store` and `filing`, which only the server imports.
"""
