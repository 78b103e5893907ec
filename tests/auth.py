"""How tests sign people in. Use `sign_in(client, user)` (or the `signed_in` fixture), never
`client.force_login` directly, so that sign-in rules (such as a second factor) apply everywhere
in one place."""


def sign_in(client, user):
    client.force_login(user)
    return client
