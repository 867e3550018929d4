# expected: error
# message: Permission denied
# options: sandbox
# Known limit (now closed): write a .pth file into site-packages, which every later Python (the
# grader's next run included) executes at start-up.
import os
import sysconfig

with open(os.path.join(sysconfig.get_paths()["purelib"], "zz_convkata_evil.pth"), "w") as f:
    f.write("import os; os.environ['CONVKATA_PWNED'] = '1'\n")
