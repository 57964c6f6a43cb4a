"""Forms of the scheduling pages. Each module owns one page's forms."""
