"""The operating rhythm: cadences, due work, the scheduler and its election (issue 10)."""
