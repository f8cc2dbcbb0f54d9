"""pytest-xdist: the agent scheduler, what workers hand the controller, warm-up."""
