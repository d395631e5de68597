#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace reel {

Status WriteFileWithMode(const std::string& path, std::string_view contents, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  // open() leaves the mode of an existing file alone; a key must not stay readable.
  Status status;
  if (::fchmod(fd, mode) != 0)
    status = Status::IoError("chmod " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (status.ok() && written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError("write " + path + ": " + std::strerror(errno));
    if (n > 0) written += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = Status::IoError("fsync " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return status;
}

Status ReplaceFileWithMode(const std::string& path, std::string_view contents, mode_t mode) {
  const std::string temporary = path + ".tmp";
  Status status = WriteFileWithMode(temporary, contents, mode);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = Status::IoError("rename " + temporary + " to " + path + ": " + std::strerror(errno));
  }
  if (!status.ok()) std::remove(temporary.c_str());
  return status;
}

}  // namespace reel
