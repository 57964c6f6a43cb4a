"""What every app shares and nothing else: who is acting (the actor, with the clinic's own
"today"), the request context the audit trail reads, roles, and the neutral error shape that
services raise and each interface renders once.

The platform sits between the pure core and the apps: it may import Django, never an app.
"""
