"""What an operator sees of a running ``coach serve``: log lines (text or JSON, each with
its request and turn id, secrets masked: logs.py), the ids themselves (context.py) and
Prometheus metrics (metrics.py)."""
