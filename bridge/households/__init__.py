"""Households: devices shared with family and guests, each member with a role.

`roles` says what each role may do (data), `access` is the one place every entry
point asks (which devices a person reaches, and who hears a device's reports),
`service` changes membership and tells the platforms what that changes.
"""
