"""Mend's domain core: plain Python, no Django import. Dataclasses in, dataclasses out."""
