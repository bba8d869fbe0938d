"""Build and test tooling for the Aubade kernel."""
