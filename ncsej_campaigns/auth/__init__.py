"""Accounts, roles, sign-in and the access policy."""
