"""What the report reads: result files gathered into tables (docs/architecture.md)."""
