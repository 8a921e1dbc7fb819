"""Petitions: bilingual public petitions the coalition fills together."""
