/*
 * route.c — matching a request to the route table (http.h), segment by segment.
 * The table is a dozen rows: a linear scan costs less than building anything.
 * Pure, so tests/unit/test_server.c checks it without a socket.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

/* Does path match pattern? Fills params with the {x} segments. */
static bool match_path(const char *pattern, const char *path,
                       char params[ROUTE_PARAMS][ROUTE_PARAM_MAX])
{
    int np = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++, path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pl > 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
            if (sl == 0 || sl >= ROUTE_PARAM_MAX || np == ROUTE_PARAMS)
                return false;
            memcpy(params[np], path, sl);
            params[np++][sl] = '\0';
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl, path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

int route_match(const route *table, size_t n, const char *method, const char *path,
                const route **found, char params[ROUTE_PARAMS][ROUTE_PARAM_MAX], char *allow,
                size_t allowsz)
{
    bool path_known = false;
    size_t used = 0;
    *found = NULL;
    if (allowsz)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char scratch[ROUTE_PARAMS][ROUTE_PARAM_MAX] = {{0}};
        if (!match_path(table[i].pattern, path, scratch))
            continue;
        path_known = true;
        bool get = strcmp(table[i].method, "GET") == 0;
        if (strcmp(table[i].method, method) == 0 || (get && strcmp(method, "HEAD") == 0)) {
            *found = &table[i];
            memcpy(params, scratch, sizeof scratch);
            return 200;
        }
        int w = snprintf(allow + used, allowsz - used, "%s%s%s", used ? ", " : "",
                         table[i].method, get ? ", HEAD" : "");
        if (w > 0 && (size_t)w < allowsz - used)
            used += (size_t)w;
    }
    return path_known ? 405 : 404;
}
