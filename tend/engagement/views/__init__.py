"""HTML views of engagements: logging notes and calls and sending email from a record, email
templates, and the tracking pixel and redirects that recipients' mail clients reach."""
