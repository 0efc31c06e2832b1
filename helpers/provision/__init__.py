"""Provisioning on Alibaba Cloud through the official SDKs: `python -m helpers.provision up|down`.

Modules: `names` (what is created, by name), `clients` (endpoints, owner key, SDK clients),
`buckets` (OSS), `ram_entities` (RAM), `envfile` (the KEY=VALUE output), `report` (lines and
errors), `commands` (the order of steps), `__main__` (the CLI).
"""
