/*
 * fuzz.h — what the harnesses in tests/fuzz share.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput (and, when it needs
 * set-up, LLVMFuzzerInitialize). It is built twice: with libFuzzer under ASan and
 * UBSan by `scripts/fuzz` (meson -Dfuzz=true, clang), and with replay.c's main in
 * every build, where it replays its seed corpus and the crashes fuzzing found as
 * a unit test. A harness checks properties (fz_check) as well as memory safety:
 * a broken property aborts, which libFuzzer reports as a crash and saves.
 */
#ifndef VIGIL_FUZZ_H
#define VIGIL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional (weak, as libFuzzer declares it): set-up before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* The input as a C string (cut at its first NUL); the caller frees it. */
char *fz_cstr(const uint8_t *data, size_t size);

/* A property that must hold: when it does not, print what and where, and abort. */
#define fz_check(cond, ...) ((cond) ? (void)0 : fz_fail(__FILE__, __LINE__, __VA_ARGS__))
_Noreturn void fz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A fresh workspace in a temporary directory of this process (removed at exit),
 * its actor "fuzz". Each call makes a new one; the caller closes it. */
vg_ws *fz_workspace(void);
/* Close ws and delete its files. */
void fz_workspace_drop(vg_ws *ws);
/* A file in the same directory, for a harness that must hand a path on. Static. */
const char *fz_temp_path(const char *name);
/* Are a and b the same value? By their printed forms: cJSON_Compare finds an
 * object with a repeated key unequal to itself. */
struct cJSON;
bool fz_same(const struct cJSON *a, const struct cJSON *b);

#endif
