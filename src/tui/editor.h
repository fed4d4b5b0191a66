/*
 * editor.h — the one way vigil hands text to the analyst's editor: the TUI's notes
 * and task logs, `vigil playbook edit`. No curses here: the TUI gives the terminal
 * back around it (tui_edit_text).
 */
#ifndef VIGIL_EDITOR_H
#define VIGIL_EDITOR_H

#include <stddef.h>

/* A new private file (0600) for the editor, in $TMPDIR or else /tmp, named
 * vigil-WHAT-XXXXXX followed by suffix (may be ""): its path in out. 0, or -1 with
 * errno set. */
int ed_tmpfile(char *out, size_t outsz, const char *what, const char *suffix);

/* Run $VISUAL, else $EDITOR, else vi, on path through the shell (so the variable
 * may carry options) and wait for it. While it runs vigil ignores SIGINT and
 * SIGQUIT, as system(3) does: Ctrl-C and Ctrl-\ belong to the editor and do not
 * kill vigil with the text unsaved. idle, when given, is called while the editor
 * runs and returns the milliseconds until it is called again. Returns the
 * editor's exit status, or -1 when it could not run or a signal ended it; *name
 * (when given) is the editor's command, for a message. */
int ed_run(const char *path, int (*idle)(void *ud), void *ud, const char **name);

#endif
