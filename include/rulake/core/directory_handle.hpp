// An open directory, and files opened relative to it (openat and friends). Once a directory is open,
// a name in it is looked up in that very directory whatever happens to the path that led there, and a
// symbolic link in place of a file is refused instead of followed. This is how rulake reads and writes
// files in directories an administrator allowed: check the directory's path once, open it, then do
// everything through the handle, so that nothing can be swapped in between a check and a use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rulake/core/posix_file.hpp"

namespace rulake::core {

// A regular file opened for reading: its descriptor, its path (for messages) and its fstat.
struct OpenedFile {
    UniqueFd fd;
    std::string path;
    FileStatus status;
};

// Opens the regular file at path read-only, following symbolic links (for paths that trusted callers
// and tests give). Errors as open_for_reading() and status_of_regular_file().
OpenedFile open_regular_file(const std::string& path, std::string_view what);

// Owns a descriptor of an open directory. Move-only. Every name given to a method must be a single
// valid file name (validate_file_name(): InvalidArgument otherwise), so nothing leaves the directory.
class DirectoryHandle {
  public:
    // Opens directory path, following symbolic links. Throws Io.
    static DirectoryHandle open(const std::string& path);
    // Opens canonical_path (absolute, without "." or ".." components and symbolic links, as realpath
    // returns it) one component at a time from "/" without following symbolic links, so that the
    // directory opened is the one at that path now. A component that is (or became) a symbolic link
    // is an Io error "directory "<path>" is a symbolic link" (or "... contains a symbolic link").
    static DirectoryHandle open_canonical(const std::string& canonical_path);

    DirectoryHandle(DirectoryHandle&&) noexcept = default;
    DirectoryHandle& operator=(DirectoryHandle&&) noexcept = default;

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    // The path of name in this directory, for messages.
    std::string path_of(std::string_view name) const;
    // Another handle on the same open directory (a duplicated descriptor).
    DirectoryHandle duplicate() const;

    // Opens entry name read-only, without following a symbolic link and without blocking on a FIFO,
    // and requires a regular file. Errors: Io "<what> "<path>" is a symbolic link", InvalidArgument
    // "... is not a regular file", Io for other failures; a missing entry is an Io error, or nullopt
    // from the _if_exists variant.
    OpenedFile open_file(std::string_view name, std::string_view what) const;
    std::optional<OpenedFile> open_file_if_exists(std::string_view name, std::string_view what) const;

    // Creates (mode 0700) subdirectory name unless it exists, and opens it without following a
    // symbolic link. Throws Io.
    DirectoryHandle make_subdirectory(std::string_view name) const;
    // Whether an entry named name exists (a symbolic link counts, whatever it points to).
    bool has_entry(std::string_view name) const;
    // The names of the entries, without "." and "..", in no particular order. Throws Io.
    std::vector<std::string> entry_names() const;
    // Removes file name if it exists. Throws Io for other failures.
    void remove_file(std::string_view name) const;
    // fsync of the directory, so that renames and creations inside it are durable (filesystems that
    // cannot fsync directories are accepted, as Postgres does). Throws Io.
    void sync() const;

  private:
    DirectoryHandle(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

    UniqueFd fd_;
    std::string path_;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
