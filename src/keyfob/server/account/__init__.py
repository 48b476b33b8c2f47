"""The account page: a user manages their own sign-in methods, sessions and connected apps."""
