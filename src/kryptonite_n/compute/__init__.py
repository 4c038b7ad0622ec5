"""What the jobs do: data, references, models and their fits, attacks, the search, the scaling
runner, carbon tracking (docs/architecture.md)."""
