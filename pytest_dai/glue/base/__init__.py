"""The glue's shared names: markers, stash keys, hookspecs, the worker check, users' hooks."""
