"""Microsoft Teams on the Microsoft 365 Agents SDK: parse an activity into a ``Who`` and
a neutral input, render messages as text and Adaptive Cards, a notifier for proactive
messages, a directory that binds Teams users by Entra id or roster email, and
``POST /api/messages`` for ``coach serve``."""
