"""Protocol facts shared by the app server, the client, the lessons, the tests and the benchmarks.

One small module per fact, each the only definition of its rule:

    scopes        the user-prefix rule (`users/<uid>/`) and the STS scope / role policies
    endpoints     default endpoints, path style versus virtual host, the Host a browser SDK sends
    post_form     PostObject policy documents and their V1 / V4 signatures
    errors        OSS error documents (XML body or the base64 `x-oss-err` header)
    callback_keys where callback public keys may come from, and the local cloud's key path

Depends on the standard library only and imports nothing else from `helpers`, so anything may
import it and it imports nothing upward (tests/unit/protocol/test_single_home.py checks both).
"""
