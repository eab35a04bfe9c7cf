"""artforge studio: a local web app over the commands layer (issue 39).

Built so far, each a plain module with no web framework in it, so the server (next) stays a thin layer:

- ``workspace.py``: the one folder the studio reads and writes, and the only way a request's path
  becomes a file (traversal in every form refused);
- ``guard.py``: which requests the server answers at all (loopback Host, same-origin, a token off
  loopback): the checks against DNS rebinding and cross-site requests;
- ``store.py``: the workspace's SQLite database of jobs and ratings, safe under concurrent writers,
  where a job that was running when the server stopped is found "interrupted", never lost;
- ``worker.py``: the queue's jobs run one at a time, each in its own process, through the commands
  layer, their events stored as they come, a cancel request turned into the command's cancel token.

Next (issue 39): the FastAPI server over these, its pages, and the browser tests.
"""
