"""Run folders and their files: versions, the one writer, loggers, metrics.csv, checkpoint files."""

from lit_digits.runs.folders import RunConfig, RunLogger

__all__ = ["RunConfig", "RunLogger"]
