"""Recomputing health scores, in chunks of accounts: `run` assigns each account the first active
profile whose segment matches it and shares the chunks out (`pool`); `compute` measures and scores
a chunk against each version's `plan`; `write` stores only what changed — scores, a history point
when the day is new or the status changed, and alerts. The built-in `health_score` /
`health_status` properties read the score rows, so a recompute never writes customer records.
"""
