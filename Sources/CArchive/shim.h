/* CArchive: libarchive for ImportEngine, plus wrappers for the macros and locale calls Swift cannot use directly. */
#ifndef GPHOTOSFS_CARCHIVE_SHIM_H
#define GPHOTOSFS_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#ifdef __APPLE__
#include <xlocale.h>
#endif

/* Whether the entry is a regular file with its own data: not a tar hard link (AE_IFREG is a cast macro Swift does not import). */
static inline int carchive_entry_is_regular(struct archive_entry *e) {
    return archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL;
}

/* Whether the entry is a directory (AE_IFDIR is a cast macro Swift does not import). */
static inline int carchive_entry_is_directory(struct archive_entry *e) { return archive_entry_filetype(e) == AE_IFDIR; }

/* Marks the entry as a regular file with the given permission bits. */
static inline void carchive_entry_set_regular(struct archive_entry *e, unsigned int perm) {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, (__LA_MODE_T)perm);
}

/* A new locale object whose LC_CTYPE is UTF-8 (C.UTF-8, else en_US.UTF-8), or NULL if the system has none.
 * libarchive converts names through the thread's LC_CTYPE; the reader and writer switch to this one per call with
 * uselocale(3), which affects only the calling thread and never the process-wide locale. */
static inline void *carchive_new_utf8_locale(void) {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (l == (locale_t)0) l = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
    if (l == (locale_t)0) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    return (void *)l;
}

/* Makes `l` (from carchive_new_utf8_locale or a previous call) the calling thread's locale; returns the previous one. */
static inline void *carchive_use_locale(void *l) { return (void *)uselocale((locale_t)l); }

#endif
