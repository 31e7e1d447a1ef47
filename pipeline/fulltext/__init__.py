"""Full text of articles whose feed carries only a summary: the guarded page fetch (SSRF).

``guard`` decides which addresses a page fetch may connect to, ``fetch`` fetches a page with the
poller's deadline, size cap, redirects and per-host politeness.
"""
