"""The language model at the edge: configuration, the openai client, privacy, the request
log, and the tasks (triage, suggestions, summaries, digest narrative, blockers). Flows never
call a model: they request one as data (``flows.effects.AskModel``) and the answer comes
back as an ``Event``."""
