"""Feed polling: HTTP fetching, parsing bytes into raw articles, scheduling, the service."""
