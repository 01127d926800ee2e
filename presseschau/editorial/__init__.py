"""Editorial workflow: users, review queue, edits with revisions, approval."""
