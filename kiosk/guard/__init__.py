"""The abuse guard of the public check-in form (R4-R10)."""
