"""Over https, the linking session's cookie never travels in the clear."""


def test_secure_cookies_over_https(server, make_platform):
    platform = make_platform(server.url)
    platform.verify = str(server.ca)
    reply = platform.get(platform.authorize_path())
    assert reply.status_code == 200
    cookie = reply.headers["Set-Cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie
