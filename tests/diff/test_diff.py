"""Added lines of unified diffs keep their new-file numbers, whatever the front-end."""

from __future__ import annotations

from gitops_health.rules.change import AddedLine
from gitops_health.rules.diff import added_lines

GIT_PATCH = """--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 keep
-old
+new\r
+more
\\ No newline at end of file
@@ -10 +11,0 @@
-gone
"""


def test_numbers_follow_the_new_file_and_headers_are_not_content() -> None:
    assert added_lines(GIT_PATCH) == (AddedLine(2, "new\r"), AddedLine(3, "more"))


def test_no_patch_means_no_lines() -> None:
    assert added_lines(None) == ()
    assert added_lines("Binary files a/x.png and b/x.png differ") == ()
