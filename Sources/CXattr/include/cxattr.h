// Extended attributes (getxattr/setxattr/listxattr) for Swift: Glibc's module map does not export <sys/xattr.h>.
#include <sys/types.h>
#include <sys/xattr.h>
