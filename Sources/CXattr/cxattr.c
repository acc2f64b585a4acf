// Empty: the target only carries <sys/xattr.h> into Swift (include/cxattr.h).
#include "cxattr.h"
