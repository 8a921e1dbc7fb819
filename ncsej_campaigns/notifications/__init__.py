"""Outbox mail: every email is a row written with the change that causes it."""
