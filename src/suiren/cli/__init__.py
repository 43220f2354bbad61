"""The command line: one Typer app, a module per command group (edges only, no rules)."""
