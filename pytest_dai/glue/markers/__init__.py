"""The ``dai_model`` and ``dai_test_config`` markers: signatures, parsing and checks."""
