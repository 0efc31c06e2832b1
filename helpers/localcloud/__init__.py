"""The local cloud: a stand-in for Alibaba Cloud OSS, STS and RAM that speaks the real wire protocol.

Sub-packages: `oss/` (the OSS API), `sts/` (AssumeRole, and the RPC authentication RAM shares),
`ram/` (policy evaluation, the RAM API and its persisted state), `store/` (durable objects on
disk); `rpc_app.py` is the wire of the RPC-style (STS, RAM) ports. The app server and the client
never import this package; they reach it over HTTP through the official SDKs.
"""
