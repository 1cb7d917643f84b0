"""Locations: one installation, many offices (issue 16)."""
