"""`make roster` and `make hub`: the course on a JupyterHub with nbgrader's exchange.

`manage` makes the accounts and starts the hub, `accounts` handles the Unix accounts, `jupyterhub_config.py`
is the hub's configuration, and `proxy/` pins configurable-http-proxy's npm tree.
"""
