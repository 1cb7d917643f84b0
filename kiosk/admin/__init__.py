"""The admin area: accounts and sessions, the audit log and alerts, statistics, and its pages."""
