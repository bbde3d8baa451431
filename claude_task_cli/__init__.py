"""claude-task-cli: executable, verifiable markdown task documents."""

__version__ = "0.1.0"
