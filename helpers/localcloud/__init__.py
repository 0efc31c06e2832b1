"""The local cloud: a stand-in for Alibaba Cloud OSS and STS that speaks the real wire protocol.

Sub-packages: `oss/` (the OSS API), `sts/` (AssumeRole), `ram/` (policy evaluation),
`store/` (durable objects on disk). The app server and the client never import this package;
they reach it over HTTP through the official SDKs.
"""
