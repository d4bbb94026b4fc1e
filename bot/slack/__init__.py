"""The Slack surface: listeners, parse, render, its notifier and directory, clients,
installations, workspaces and limits. Everything else is shared (bot/channels/)."""
