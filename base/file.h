// Small files written whole with the mode they must have: a private key 0600, a
// certificate or genesis 0644. The mode is set on the open descriptor, so that a file
// that existed with a looser mode does not keep it, and the umask does not decide it.
//
// Errors are IoError naming the path and the system's reason; nothing throws.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace reel {

// Creates or truncates `path`, sets `mode`, writes `contents` and fsyncs it.
Status WriteFileWithMode(const std::string& path, std::string_view contents, mode_t mode);

// The same through `path`.tmp and a rename, so that a reader (or a crash) sees the old
// file or the new one, never half of one. For files that are edited in place.
Status ReplaceFileWithMode(const std::string& path, std::string_view contents, mode_t mode);

}  // namespace reel
