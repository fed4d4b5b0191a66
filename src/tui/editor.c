/*
 * editor.c — $VISUAL or $EDITOR on a temporary file (see editor.h).
 */
#include "editor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int ed_tmpfile(char *out, size_t outsz, const char *what, const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int n = snprintf(out, outsz, "%s/vigil-%s-XXXXXX%s", dir, what, suffix);
    if (n < 0 || (size_t)n >= outsz) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemps(out, (int)strlen(suffix)); /* mode 0600 */
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static const char *editor_name(void)
{
    const char *ed = getenv("VISUAL");
    if (!ed || !*ed)
        ed = getenv("EDITOR");
    return ed && *ed ? ed : "vi";
}

int ed_run(const char *path, int (*idle)(void *ud), void *ud, const char **name)
{
    const char *ed = editor_name();
    if (name)
        *name = ed;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    pid_t pid = fork();
    if (pid == 0) {
        /* an ignored signal stays ignored across exec: the editor gets them back */
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execl("/bin/sh", "sh", "-c", "exec $1 \"$2\"", "sh", ed, path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    pid_t w = -1;
    while (pid > 0) {
        w = waitpid(pid, &status, idle ? WNOHANG : 0);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w == 0)
            poll(NULL, 0, idle(ud));
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (pid < 0 || w != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
