// libfuse3 low-level API for Swift: FUSE_USE_VERSION 312 (real prototypes for the 3.12 loop config) and macro wrappers.
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <string.h>
#include <pthread.h>

/// FUSE_ARGS_INIT is a macro.
static inline struct fuse_args cfuse_args_init(int argc, char **argv) {
    struct fuse_args a = FUSE_ARGS_INIT(argc, argv);
    return a;
}
/// Replies to a read with `size` bytes of `fd` at `pos`: libfuse splices them from the page cache into /dev/fuse where
/// it can, else reads them into its own buffer (fuse_bufvec's one-element array does not import well into Swift).
static inline int cfuse_reply_fd(fuse_req_t req, int fd, off_t pos, size_t size) {
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
    bv.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    bv.buf[0].fd = fd;
    bv.buf[0].pos = pos;
    return fuse_reply_data(req, &bv, (enum fuse_buf_copy_flags)0);
}
/// UTIME_NOW / UTIME_OMIT do not import into Swift.
static const long CFUSE_UTIME_NOW = UTIME_NOW;
static const long CFUSE_UTIME_OMIT = UTIME_OMIT;

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#ifndef POSIX_SPAWN_SETSID
#define POSIX_SPAWN_SETSID 0x80   /* glibc >= 2.26; hidden without _GNU_SOURCE */
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
static const unsigned int CFUSE_RENAME_NOREPLACE = RENAME_NOREPLACE;
static const unsigned int CFUSE_RENAME_EXCHANGE = RENAME_EXCHANGE;

/// Starts `path` in a new session (setsid), stdin /dev/null, stdout+stderr on `outfd`, an empty signal mask and
/// default INT/TERM/HUP/PIPE dispositions. posix_spawn is safe in a multithreaded process; fork() is not.
static inline int cfuse_spawn_detached(pid_t *pid, const char *path, char *const argv[], char *const envp[], int outfd) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    int r;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outfd, 1);
    posix_spawn_file_actions_adddup2(&fa, outfd, 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT); sigaddset(&def, SIGTERM); sigaddset(&def, SIGHUP); sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    r = posix_spawn(pid, path, &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return r;
}

/// Unblocks SIGINT, SIGTERM and SIGHUP in the calling thread (a child of Foundation.Process inherits them blocked).
static inline void cfuse_unblock_stop_signals(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT); sigaddset(&s, SIGTERM); sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (FUSE workers inherit this from the loop thread).
static inline void cfuse_block_stop_signals(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT); sigaddset(&s, SIGTERM); sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/// The self-pipe the stop-signal handler writes to (-1 until installed).
static int cfuse_signal_pipe = -1;
static void cfuse_on_stop_signal(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (cfuse_signal_pipe >= 0) { ssize_t n = write(cfuse_signal_pipe, &b, 1); (void)n; }
    errno = saved;
}
/// Installs a handler for SIGINT, SIGTERM and SIGHUP that writes the signal number to `fd` (async-signal-safe).
static inline int cfuse_install_stop_handlers(int fd) {
    struct sigaction sa;
    cfuse_signal_pipe = fd;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cfuse_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) || sigaction(SIGHUP, &sa, NULL)) return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/// Stops forwarding stop signals and restores their default dispositions (a second signal then ends the process).
static inline void cfuse_clear_stop_handlers(void) {
    cfuse_signal_pipe = -1;
    signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL); signal(SIGHUP, SIG_DFL);
}
