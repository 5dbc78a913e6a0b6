// See cspawn.h. Only async-signal-safe calls happen in the child between fork and exec.
#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct request {
    const char *path;
    char *const *argv;
    char *const *envp;
    int stdin_fd;
    int stdout_fd;
    int max_fd;  // highest fd to close in the child when close_range(2) is missing
    pid_t pid;
    int error;
    int done;
};

static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;  // one request at a time
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static struct request *current = NULL;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int thread_error = 0;

static void child_fail(int report_fd, int code) {
    // write(2) and _exit(2) are async-signal-safe.
    ssize_t ignored = write(report_fd, &code, sizeof code);
    (void)ignored;
    _exit(127);
}

/// The kernel's struct sigaction (x86_64 and aarch64 layout), for the signals libc's
/// sigaction refuses to touch (its reserved 32 and 33), which can still be SIG_IGN.
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

/// Closes every fd >= `low` except `keep` (close_range(2), else a close(2) loop up to `max_fd`).
static void close_from(int low, int keep, int max_fd) {
    int ok = 0;
#ifdef SYS_close_range
    ok = 1;
    if (keep > low && syscall(SYS_close_range, (unsigned)low, (unsigned)(keep - 1), 0) != 0) ok = 0;
    if (ok && syscall(SYS_close_range, (unsigned)(keep + 1), ~0U, 0) != 0) ok = 0;
#endif
    if (ok) return;
    for (int fd = low; fd <= max_fd; fd++) {
        if (fd != keep) (void)close(fd);
    }
}

/// Runs in the child after fork: must stay async-signal-safe (no malloc, no locks).
static void child_exec(struct request *r, pid_t parent, int report_fd) {
    if (setpgid(0, 0) != 0) child_fail(report_fd, errno);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(report_fd, errno);
    // The parent may have died before prctl took effect: then no signal will ever come.
    if (getppid() != parent) child_fail(report_fd, ESRCH);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (sigaction(sig, &dfl, NULL) != 0) {
            // libc-reserved: ask the kernel directly (syscall(2) is a plain trap, signal-safe).
            struct kernel_sigaction k = {SIG_DFL, 0, NULL, 0};
            (void)syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask);
        }
    }
    if (dup2(r->stdin_fd, 0) < 0) child_fail(report_fd, errno);
    if (dup2(r->stdout_fd, 1) < 0) child_fail(report_fd, errno);
    // Nothing of the daemon's beyond stdio (sockets, journals, other children's pipes) may
    // leak into the child; only the report pipe stays, and exec closes it.
    close_from(3, report_fd, r->max_fd);
    sigset_t empty;
    sigemptyset(&empty);
    if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) child_fail(report_fd, errno);
    execve(r->path, r->argv, r->envp);
    child_fail(report_fd, errno);
}

static void serve(struct request *r) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        r->pid = -1;
        r->error = errno;
        return;
    }
    struct rlimit limit;
    r->max_fd = 65535;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < (1u << 20)) {
        r->max_fd = (int)limit.rlim_cur - 1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        child_exec(r, parent, report[1]);
    }
    int saved = errno;
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        r->pid = -1;
        r->error = saved;
        return;
    }
    // Our copy of the child's pgid too, so a signal to the group right after this returns
    // cannot miss (whichever of the two setpgid calls runs first wins; both set the same).
    (void)setpgid(pid, pid);
    int code = 0;
    ssize_t n;
    do {
        n = read(report[0], &code, sizeof code);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof code) {
        // exec failed: reap the child, which has already _exit-ed.
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        r->pid = -1;
        r->error = code;
        return;
    }
    r->pid = pid;
    r->error = 0;
}

static void *spawner_main(void *unused) {
    (void)unused;
    // This thread never handles signals; children inherit this mask and clear it.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    pthread_mutex_lock(&lock);
    for (;;) {
        while (current == NULL || current->done) pthread_cond_wait(&posted, &lock);
        struct request *r = current;
        pthread_mutex_unlock(&lock);
        serve(r);
        pthread_mutex_lock(&lock);
        r->done = 1;
        pthread_cond_broadcast(&finished);
    }
    return NULL;
}

static void start_spawner(void) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    thread_error = pthread_create(&thread, &attr, spawner_main, NULL);
    pthread_attr_destroy(&attr);
}

/// Resolves `name` against PATH like execvp, in the parent (execvpe is not async-signal-safe).
static int resolve(const char *name, char *out, size_t size) {
    if (strchr(name, '/') != NULL) {
        if (strlen(name) >= size) return ENAMETOOLONG;
        strcpy(out, name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0') path = "/usr/local/bin:/usr/bin:/bin";
    int last = ENOENT;
    const char *p = path;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *dir = len == 0 ? "." : p;
        size_t dirlen = len == 0 ? 1 : len;
        if (dirlen + 1 + strlen(name) < size) {
            memcpy(out, dir, dirlen);
            out[dirlen] = '/';
            strcpy(out + dirlen + 1, name);
            if (access(out, X_OK) == 0) return 0;
            if (errno != ENOENT && errno != ENOTDIR) last = errno;
        }
        if (end == NULL) break;
        p = end + 1;
    }
    return last;
}

pid_t cspawn_spawn(const char *path, char *const argv[], char *const envp[],
                   int stdin_fd, int stdout_fd, int *error) {
    char resolved[PATH_MAX];
    int rc = resolve(path, resolved, sizeof resolved);
    if (rc != 0) {
        *error = rc;
        return -1;
    }
    pthread_once(&once, start_spawner);
    if (thread_error != 0) {
        *error = thread_error;
        return -1;
    }
    struct request r = {resolved, argv, envp, stdin_fd, stdout_fd, 0, -1, 0, 0};
    pthread_mutex_lock(&callers);
    pthread_mutex_lock(&lock);
    current = &r;
    pthread_cond_signal(&posted);
    while (!r.done) pthread_cond_wait(&finished, &lock);
    current = NULL;
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&callers);
    *error = r.error;
    return r.pid;
}
