#ifndef SEALER_CSPAWN_H
#define SEALER_CSPAWN_H

#include <sys/types.h>

/// Starts `path` (searched in the caller's PATH when it has no '/') with exactly `argv` and
/// `envp`, `stdin_fd` as its fd 0 and `stdout_fd` as its fd 1, in a new process group, with
/// every signal at its default disposition, an empty signal mask, PR_SET_PDEATHSIG(SIGKILL),
/// and no other fd of ours than 0, 1 and 2 (stderr is shared).
///
/// The fork happens on one dedicated thread that lives as long as the process, because the
/// parent-death signal fires when the forking *thread* exits. Between fork and exec the child
/// makes only async-signal-safe calls. Returns the pid, or -1 with `*error` set to the errno of
/// the step that failed (an exec failure is reported back through a close-on-exec pipe).
pid_t cspawn_spawn(const char *path, char *const argv[], char *const envp[],
                   int stdin_fd, int stdout_fd, int *error);

#endif
