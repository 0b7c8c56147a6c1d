#pragma once
// ToErrno: the only place where ferry's Status codes become errno values for
// FUSE replies (STYLE R2). Filesystem-level errnos carried in a Status
// (ESTALE, ENOTDIR, EROFS, ...) are kept; errnos from deeper layers that an
// application could misread (EINTR, EAGAIN, ECONNRESET, ...) are not: those
// become EIO. Thread-safe.

#include "common/status.h"

namespace ferry::sidecar {

// A positive errno for a failed `s`; 0 for OK.
int ToErrno(const Status& s);

}  // namespace ferry::sidecar
