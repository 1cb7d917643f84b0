"""Kiosk tablets: one-time pairing codes and the hashed device credential (R7)."""
