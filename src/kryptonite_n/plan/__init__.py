"""What to run: the configuration, file names, model specs and limits, the jobs a configuration
asks for and the code each runs. Light: the only part of the library a parse of the workflow
imports (docs/architecture.md)."""
