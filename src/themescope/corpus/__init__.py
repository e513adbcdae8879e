"""corpus: many videos from several groups in one theme space."""
