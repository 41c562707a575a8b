"""Getting facts in: survey spreadsheets and the sample estate (live collectors come later)."""
