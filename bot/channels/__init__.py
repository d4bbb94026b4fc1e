"""The channel layer: what every surface (Slack, the console, Teams later) shares.

Who is talking, the typed result of a turn, the per-person serial gateway that runs
turns (binding an unknown user through the surface's directory), the outbox worker
that sends through one notifier per platform, routing by the recipient's channel,
and the presentation facts all surfaces agree on. It names no platform.
"""
