"""The record UI for records of every object type: preview panel and page, inline edit, history,
timeline, follow, merge and associations. Views stay thin: reads through `queries` (which asks the
policy), writes through services with ``source=ChangeSource.UI``."""
