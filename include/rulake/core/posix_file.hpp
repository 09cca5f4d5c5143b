// Thin POSIX file helpers for the core's file formats: an owning descriptor and I/O calls that retry
// on EINTR and short transfers and report failures as core::Error with the file named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rulake::core {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = other.release();
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    // Closes the descriptor (errors from close are ignored: nothing was written through it, or the
    // writer already fsynced).
    void reset();

  private:
    int fd_ = -1;
};

// Throws core::Error(Io): "could not <action> <what> "<path>": <strerror(err)>".
[[noreturn]] void throw_io_error(std::string_view action, std::string_view what, const std::string& path, int err);

// Opens path read-only, without blocking on FIFOs (check the type with status_of_regular_file()). Returns an invalid UniqueFd if the file does not exist (ENOENT) and
// missing_ok; throws Io for every other failure, naming the file as "<what> "<path>"".
UniqueFd open_for_reading(const std::string& path, std::string_view what, bool missing_ok = false);

struct FileStatus {
    uint64_t size = 0;
    int64_t mtime_seconds = 0;  // modification time, whole seconds since the epoch
};
// fstat of an open file; throws Io on failure and InvalidArgument if it is not a regular file.
FileStatus status_of_regular_file(int fd, std::string_view what, const std::string& path);

// Reads up to size bytes at offset; returns the number read (less than size only at end of file).
size_t read_at(int fd, void* buffer, size_t size, uint64_t offset, std::string_view what, const std::string& path);

// Writes all size bytes at the current position.
void write_all(int fd, const void* data, size_t size, std::string_view what, const std::string& path);
// Writes all size bytes at offset (the position is unchanged).
void write_all_at(int fd, const void* data, size_t size, uint64_t offset, std::string_view what,
                  const std::string& path);

// fsync of an open file; throws Io on failure.
void sync_file(int fd, std::string_view what, const std::string& path);

// The directory part of path ("." if it has none) and the last component.
std::string directory_of(const std::string& path);
std::string base_name_of(const std::string& path);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
