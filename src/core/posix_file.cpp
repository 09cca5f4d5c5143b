// POSIX file helpers (see include/rulake/core/posix_file.hpp).
#include "rulake/core/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rulake/core/error.hpp"

namespace rulake::core {

void UniqueFd::reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void throw_io_error(std::string_view action, std::string_view what, const std::string& path, int err) {
    std::string message = "could not ";
    message.append(action).append(" ").append(what).append(" \"").append(path).append("\": ");
    message.append(std::strerror(err));
    throw Error(ErrorKind::Io, message);
}

UniqueFd open_for_reading(const std::string& path, std::string_view what, bool missing_ok) {
    int fd;
    do {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (the caller then rejects it as not a
        // regular file); it has no effect on reads of regular files.
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno == ENOENT && missing_ok) return UniqueFd();
        throw_io_error("open", what, path, errno);
    }
    return UniqueFd(fd);
}

FileStatus status_of_regular_file(int fd, std::string_view what, const std::string& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw_io_error("stat", what, path, errno);
    if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorKind::InvalidArgument, std::string(what) + " \"" + path + "\" is not a regular file");
    }
    FileStatus status;
    status.size = static_cast<uint64_t>(st.st_size);
    status.mtime_seconds = static_cast<int64_t>(st.st_mtim.tv_sec);
    return status;
}

size_t read_at(int fd, void* buffer, size_t size, uint64_t offset, std::string_view what, const std::string& path) {
    auto* out = static_cast<unsigned char*>(buffer);
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("read", what, path, errno);
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return done;
}

void write_all(int fd, const void* data, size_t size, std::string_view what, const std::string& path) {
    const auto* in = static_cast<const unsigned char*>(data);
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, in + done, size - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("write", what, path, errno);
        }
        done += static_cast<size_t>(n);
    }
}

void write_all_at(int fd, const void* data, size_t size, uint64_t offset, std::string_view what,
                  const std::string& path) {
    const auto* in = static_cast<const unsigned char*>(data);
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(fd, in + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("write", what, path, errno);
        }
        done += static_cast<size_t>(n);
    }
}

void sync_file(int fd, std::string_view what, const std::string& path) {
    if (::fsync(fd) != 0) throw_io_error("fsync", what, path, errno);
}

std::string directory_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_name_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace rulake::core
