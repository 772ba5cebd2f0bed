"""`portico demo`: the demo organizations, on top of every other app (it may import any of them).

`loader.load_demo` builds the organizations, customers and logins; each app's part of the demo is
a module here named after the app's label (`billing.py`, `accounts.py`) exposing `extend(demo)`.
"""
