"""The settings: one table, their sources, converters and resolution into ``Settings``."""
