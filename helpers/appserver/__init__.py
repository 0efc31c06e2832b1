"""The developer's app server (FastAPI): users, STS tokens, signed URLs, PostObject policies, callbacks.

Build it with `helpers.appserver.main.create_app(settings)`; run it with
`python -m helpers.appserver serve`. It talks to OSS and STS only through the official SDKs and
never imports `helpers.localcloud`, so the same code runs against Alibaba Cloud.
"""
