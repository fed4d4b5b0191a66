/*
 * help.c — the ? overlay, a view module of its own: it owns its lines (made from
 * the command table and the key tables by tui_help_lines, so it lists everything
 * there is) and its scroll, draws over what is under it, clearing what it covers,
 * and takes every key while it is open. A key runs the command it is bound to in
 * the overlay's own terms: the moves scroll it (j, PgDn, G, ... or what the
 * analyst bound them to), back, help and quit close it, and nothing reaches the
 * view beneath.
 */
#include <stdlib.h>
#include <string.h>
#include <curses.h>

#include "tui.h"
#include "vigil/err.h"
#include "vigil/text.h"

#define HELP_COL 32 /* where a command's help starts in its line */

struct tui_help {
    char **lines; /* tui_help_lines' lines, made safe and wrapped to width */
    size_t n;
    int width; /* the width they were wrapped to */
    int top;   /* the first line shown */
};

static void help_free_lines(struct tui_help *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->lines[i]);
    free(h->lines);
    h->lines = NULL;
    h->n = 0;
}

/* The overlay's box: w columns at x, from row 2, h rows (the first its title). */
static void help_box(const tui *t, int *x, int *w, int *h)
{
    *w = t->cols > 84 ? 80 : t->cols - 4;
    *h = t->rows - 4;
    *x = (t->cols - *w) / 2;
}

static void help_push(void *ud, char *piece)
{
    struct tui_help *h = ud;
    h->lines = vg_xrealloc(h->lines, (h->n + 1) * sizeof *h->lines);
    h->lines[h->n++] = piece;
}

/* The lines wrapped to the box, a command's help continuing under its own column. */
static void help_wrap(tui *t, struct tui_help *h, int width)
{
    size_t n = 0;
    char **raw = tui_help_lines(&n);
    help_free_lines(h);
    h->width = width;
    int room = width > 12 ? width : 12;
    for (size_t i = 0; i < n; i++) {
        char *safe = vg_text_safe_dup(raw[i], t->ascii ? VG_TEXT_ASCII : 0);
        /* a command's line ("  name         ARGS             help", tui_help_lines)
         * continues under its help, another line under its own start */
        int hang = safe[0] == ' ' ? 4 : 2;
        if (strlen(safe) > HELP_COL && safe[HELP_COL - 1] == ' ' && safe[HELP_COL] != ' ')
            hang = HELP_COL;
        if (hang > room / 2)
            hang = room / 2;
        vg_text_wrap(safe, (size_t)room, 0, (size_t)hang, help_push, h);
        free(safe);
        free(raw[i]);
    }
    free(raw);
}

void tui_help_toggle(tui *t)
{
    if (t->help) {
        tui_help_close(t);
        return;
    }
    t->help = vg_xcalloc(1, sizeof *t->help);
}

void tui_help_close(tui *t)
{
    if (!t->help)
        return;
    help_free_lines(t->help);
    free(t->help);
    t->help = NULL;
}

static int last_top(const tui *t)
{
    int x, w, h;
    help_box(t, &x, &w, &h);
    int body = h - 1 > 1 ? h - 1 : 1;
    return (int)t->help->n > body ? (int)t->help->n - body : 0;
}

void tui_help_draw(tui *t)
{
    struct tui_help *hp = t->help;
    int x, w, h;
    help_box(t, &x, &w, &h);
    if (!hp || w < 4 || h < 2)
        return;
    if (hp->width != w - 2) /* opened, or the terminal was resized */
        help_wrap(t, hp, w - 2);
    if (hp->top > last_top(t))
        hp->top = last_top(t);
    int body = h - 1;
    char title[160];
    size_t last = (size_t)hp->top + (size_t)body < hp->n ? (size_t)hp->top + (size_t)body : hp->n;
    snprintf(title, sizeof title, "Help  %d-%zu of %zu   j/k PgDn/PgUp g/G scroll   Esc closes",
             hp->n ? hp->top + 1 : 0, last, hp->n);
    attron(A_REVERSE);
    for (int y = 0; y < h; y++) { /* the box clears what it covers */
        move(2 + y, x);
        for (int i = 0; i < w; i++)
            addch(' ');
        size_t i = (size_t)hp->top + (size_t)y - 1;
        if (y == 0) {
            attron(A_BOLD);
            tui_put_text(t, 2, x + 1, w - 2, title, false);
            attroff(A_BOLD);
        } else if (i < hp->n) {
            tui_put_text(t, 2 + y, x + 1, w - 2, hp->lines[i], false);
        }
    }
    attroff(A_REVERSE);
}

bool tui_help_key(tui *t, const char *command)
{
    struct tui_help *hp = t->help;
    if (!hp)
        return false;
    int x, w, h;
    help_box(t, &x, &w, &h);
    int page = h - 2 > 1 ? h - 2 : 1, top = hp->top;
    char word[32] = "";
    if (command)
        snprintf(word, sizeof word, "%.*s", (int)strcspn(command, " "), command);
    if (strcmp(word, "down") == 0)
        top++;
    else if (strcmp(word, "up") == 0)
        top--;
    else if (strcmp(word, "page-down") == 0)
        top += page;
    else if (strcmp(word, "page-up") == 0)
        top -= page;
    else if (strcmp(word, "top") == 0)
        top = 0;
    else if (strcmp(word, "bottom") == 0)
        top = last_top(t);
    else if (strcmp(word, "back") == 0 || strcmp(word, "help") == 0 ||
             strcmp(word, "quit") == 0)
        tui_help_close(t);
    if (t->help) /* still open: keep the window on the lines */
        hp->top = top < 0 ? 0 : top > last_top(t) ? last_top(t) : top;
    return true; /* every key is the overlay's while it is open */
}
