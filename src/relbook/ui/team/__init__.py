"""The team screens: the Team page (shared accounts, who knows whom, pipeline by rep,
feedback themes, sync status with Sync now, conflicts to resolve, what I share) and the
sharing dialog reachable from the Customer 360° (share, level, preview, unshare).

Everything here reads and writes through ``services.team`` and ``services.sharing`` on the
UI task runner: reads on the read pool, edits on the writer, a sync on the network pool —
the UI thread never waits on the disk or the team server.
"""
