"""The walk-in check-in: the form, the PII-free visit record, the status screen."""
