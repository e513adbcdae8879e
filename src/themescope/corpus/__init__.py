"""Corpus mode: many videos in groups → one theme space and the groups side by side."""
