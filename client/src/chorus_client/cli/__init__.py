"""The `chorus` command line: human tables by default, `--json` for machines."""
