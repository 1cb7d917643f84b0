"""A visit's SMS: dispatch off the request thread, the sweeper that settles what is left in flight, and Twilio's
callbacks (docs/sms.md)."""
