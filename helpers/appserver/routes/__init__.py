"""HTTP routes of the app server: parse a schema, call a service, return a schema."""
