"""The scheduling pages. Each module owns one area (the staff calendar, online booking, …)."""
