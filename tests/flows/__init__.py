"""Cross-component flow tests: client, app server and local cloud through real loopback servers."""
