"""The bottom of the glue: stash keys, marker names, hookspecs, the xdist worker check."""
