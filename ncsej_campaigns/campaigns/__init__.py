"""Campaigns: the umbrella that groups petitions, rallies and missions toward one goal."""
