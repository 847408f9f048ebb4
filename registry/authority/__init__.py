"""Who may say "no": authority behind claims, and the key lifecycles of the people behind them.

| module | what |
|---|---|
| `levels` | authority levels, grants and how a hit is rated (pure, shared with clients) |
| `documents` | attestations, mandates, revocations, verifications, rotations, recoveries |
| `state` | authority replayed from the log; the rules for rotations and recoveries |
| `fetch`, `didweb`, `evidence` | guarded HTTPS, did:web resolution, proofs of control of a host |
| `service` | the registry's authority endpoints: file, verify domains, re-check, describe |
"""
