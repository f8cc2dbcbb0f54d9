"""One pytest process's DAI state: settings, simulator, DAI session, journal, server faults."""
