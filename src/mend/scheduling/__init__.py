"""Scheduling: working hours, rooms' capabilities, appointment types, appointments and the calendar."""
