"""Pictures of a boot, drawn from its serial log (issue 19)."""
