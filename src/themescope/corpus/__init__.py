"""A corpus study: many videos, one model and one theme space, groups side by side."""
