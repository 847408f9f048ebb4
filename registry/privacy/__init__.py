"""Personal data of the people who file: kept beside the log, never in it.

`personal` (pure, shared with clients): which fields are personal, the split, the commitment.
`documents`: the signed erasure record. `vault`: the data key and encryption at rest. `models`: the
tables. `access`: who is asking (RFC 9421 request signatures). `store`: keep, read, erase, retain.
"""
