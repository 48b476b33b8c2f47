"""The pure core: signature schemes, sign-in messages, challenges, nonces and tokens.

Nothing in here does I/O or imports a web framework; every function takes what it needs
(including ``now``) as arguments and returns frozen dataclasses.
"""
