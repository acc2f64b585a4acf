// libfuse3 low-level API for Swift: FUSE_USE_VERSION 312 (real prototypes for the 3.12 loop config) and macro wrappers.
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/// FUSE_ARGS_INIT is a macro.
static inline struct fuse_args cfuse_args_init(int argc, char **argv) {
    struct fuse_args a = FUSE_ARGS_INIT(argc, argv);
    return a;
}
/// UTIME_NOW / UTIME_OMIT do not import into Swift.
static const long CFUSE_UTIME_NOW = UTIME_NOW;
static const long CFUSE_UTIME_OMIT = UTIME_OMIT;
