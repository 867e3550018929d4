# expected: error
# message: Permission denied
# Route 13: mark every problem passed in the grader's progress file, and leave files in $HOME's
# real place, /tmp and the workspace. Only the worker's scratch directory (its TMPDIR and HOME)
# is writable.
import json
import os
import pathlib

state = pathlib.Path(os.environ.get("CONVKATA_STATE_DIR") or pathlib.Path.home() / ".local/state/convkata")
state.mkdir(parents=True, exist_ok=True)
(state / "progress.json").write_text(json.dumps({"p01": {"passed": True}}))
