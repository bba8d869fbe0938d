"""Pictures of a boot, drawn from its console log."""
