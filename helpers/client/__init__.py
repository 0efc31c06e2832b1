"""The mobile client in Python: STS credential cache, uploads and downloads through the app server.

Talks HTTP to the app server and to OSS through the official SDKs or plain HTTP; never imports
`helpers.localcloud` or `helpers.appserver`, and never sees the developer's AccessKey.
"""

from __future__ import annotations
