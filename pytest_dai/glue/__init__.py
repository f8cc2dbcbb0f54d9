"""The pytest glue of pytest-dai, in layers; each imports only those below it (CONTRIBUTING.md):
``base`` -> ``settings`` -> ``markers`` -> ``report`` -> ``process`` -> ``run`` -> ``xdist`` ->
``hooks`` (and :mod:`pytest_dai.plugin` on top)."""
