"""Corpus studies: many videos from several groups in one theme space."""
