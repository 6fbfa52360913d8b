"""Invitations to rate a dossier's handling, sent when the one-stop software reports its result returned."""
