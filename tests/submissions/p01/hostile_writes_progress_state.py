# expected: error
# message: Permission denied
# options: sandbox
# Route 13: write into the grader's progress state (to mark problems passed). The worker's own
# HOME is its scratch directory, so it looks for the grader's: $CONVKATA_STATE_DIR, or the state
# directory under the home of whoever owns the workspace. Only the scratch directory is writable.
import os
import pathlib
import pwd

raw = os.environ.get("CONVKATA_STATE_DIR")
home = pwd.getpwuid(os.stat(__file__).st_uid).pw_dir
state = pathlib.Path(raw) if raw else pathlib.Path(home) / ".local" / "state" / "convkata"
state.mkdir(parents=True, exist_ok=True)
(state / "convkata-hostile-marker").write_text("a learner was here\n")
