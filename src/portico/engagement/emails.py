"""The engagement app's emails (`core.email_kinds`).

The slot for the "conversation reply" email (a reply of the business in a customer conversation),
declared here when conversations are built; nothing is sent yet.
"""

EMAIL_KINDS: list = []
