/*
 * term.c — whether the terminal can hold the workstation, asked of terminfo
 * before curses takes the screen. Apart from tui.c because <term.h> defines a
 * macro for every terminfo capability (lines, columns, ...).
 */
#include "tui.h" /* before <term.h>, whose macros would rename its fields */

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <term.h>
#include <unistd.h>

bool tui_terminal_ok(char *why, size_t whysz)
{
    const char *term = getenv("TERM");
    int err = 0;
    if (!term || !*term) {
        snprintf(why, whysz, "TERM is not set");
        return false;
    }
    if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
        snprintf(why, whysz, "TERM=%.60s is a terminal terminfo does not know", term);
        return false;
    }
    const char *cup = tigetstr("cup");
    bool ok = cup && cup != (char *)-1;
    del_curterm(cur_term);
    if (!ok)
        snprintf(why, whysz, "TERM=%.60s cannot move the cursor", term);
    return ok;
}
