"""School visits: rosters, the group check-in, apprenticeship consent, and their kiosk and admin pages."""
