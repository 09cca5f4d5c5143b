// Open directories and files opened relative to them (see include/rulake/core/directory_handle.hpp).
#include "rulake/core/directory_handle.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"

namespace rulake::core {

namespace {

// openat() retried on EINTR; -1 with errno set on failure.
int open_at(int dir_fd, const char* name, int flags, mode_t mode = 0) {
    int fd;
    do {
        fd = ::openat(dir_fd, name, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

bool is_symbolic_link(int dir_fd, const char* name) {
    struct stat st;
    return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

[[noreturn]] void throw_symbolic_link(std::string_view what, const std::string& path) {
    throw Error(ErrorKind::Io, std::string(what) + " \"" + path + "\" is a symbolic link",
                "rulake does not follow symbolic links inside the directories it reads and writes.");
}

// Opens subdirectory name of dir_fd without following a symbolic link; throws Io naming path.
UniqueFd open_directory_at(int dir_fd, const char* name, const std::string& path) {
    const int fd = open_at(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if ((err == ELOOP || err == ENOTDIR) && is_symbolic_link(dir_fd, name)) throw_symbolic_link("directory", path);
        throw_io_error("open", "directory", path, err);
    }
    return UniqueFd(fd);
}

}  // namespace

OpenedFile open_regular_file(const std::string& path, std::string_view what) {
    OpenedFile file;
    file.fd = open_for_reading(path, what);
    file.path = path;
    file.status = status_of_regular_file(file.fd.get(), what, path);
    return file;
}

DirectoryHandle DirectoryHandle::open(const std::string& path) {
    const int fd = open_at(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_io_error("open", "directory", path, errno);
    return DirectoryHandle(UniqueFd(fd), path);
}

DirectoryHandle DirectoryHandle::open_canonical(const std::string& canonical_path) {
    if (canonical_path.empty() || canonical_path[0] != '/') {
        throw Error(ErrorKind::InvalidArgument, "directory path \"" + canonical_path + "\" is not absolute");
    }
    UniqueFd current = open_directory_at(AT_FDCWD, "/", "/");
    std::string walked;
    size_t start = 1;
    while (start < canonical_path.size()) {
        size_t end = canonical_path.find('/', start);
        if (end == std::string::npos) end = canonical_path.size();
        const std::string component = canonical_path.substr(start, end - start);
        start = end + 1;
        if (component.empty()) continue;
        if (component == "." || component == "..") {
            throw Error(ErrorKind::InvalidArgument, "directory path \"" + canonical_path + "\" is not canonical");
        }
        walked += "/" + component;
        current = open_directory_at(current.get(), component.c_str(), walked);
    }
    return DirectoryHandle(std::move(current), walked.empty() ? "/" : walked);
}

std::string DirectoryHandle::path_of(std::string_view name) const {
    return (path_ == "/" ? std::string() : path_) + "/" + std::string(name);
}

DirectoryHandle DirectoryHandle::duplicate() const {
    const int fd = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw_io_error("duplicate the descriptor of", "directory", path_, errno);
    return DirectoryHandle(UniqueFd(fd), path_);
}

std::optional<OpenedFile> DirectoryHandle::open_file_if_exists(std::string_view name, std::string_view what) const {
    validate_file_name(name);
    const std::string name_text(name);
    OpenedFile file;
    file.path = path_of(name);
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused as not a regular file).
    const int fd = open_at(fd_.get(), name_text.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return std::nullopt;
        if (err == ELOOP && is_symbolic_link(fd_.get(), name_text.c_str())) throw_symbolic_link(what, file.path);
        throw_io_error("open", what, file.path, err);
    }
    file.fd = UniqueFd(fd);
    file.status = status_of_regular_file(fd, what, file.path);
    return file;
}

OpenedFile DirectoryHandle::open_file(std::string_view name, std::string_view what) const {
    std::optional<OpenedFile> file = open_file_if_exists(name, what);
    if (!file) throw_io_error("open", what, path_of(name), ENOENT);
    return std::move(*file);
}

DirectoryHandle DirectoryHandle::make_subdirectory(std::string_view name) const {
    validate_file_name(name);
    const std::string name_text(name);
    const std::string path = path_of(name);
    if (::mkdirat(fd_.get(), name_text.c_str(), 0700) != 0 && errno != EEXIST) {
        throw_io_error("create", "directory", path, errno);
    }
    return DirectoryHandle(open_directory_at(fd_.get(), name_text.c_str(), path), path);
}

bool DirectoryHandle::has_entry(std::string_view name) const {
    validate_file_name(name);
    struct stat st;
    return ::fstatat(fd_.get(), std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::vector<std::string> DirectoryHandle::entry_names() const {
    // fdopendir takes over the descriptor it is given and reads from its offset: give it a fresh one.
    const int fd = open_at(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_io_error("open", "directory", path_, errno);
    DIR* stream = ::fdopendir(fd);
    if (stream == nullptr) {
        const int err = errno;
        ::close(fd);
        throw_io_error("read", "directory", path_, err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owned(stream, &::closedir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
        errno = 0;
    }
    if (errno != 0) throw_io_error("read", "directory", path_, errno);
    return names;
}

void DirectoryHandle::remove_file(std::string_view name) const {
    validate_file_name(name);
    if (::unlinkat(fd_.get(), std::string(name).c_str(), 0) != 0 && errno != ENOENT) {
        throw_io_error("remove", "file", path_of(name), errno);
    }
}

void DirectoryHandle::sync() const {
    if (::fsync(fd_.get()) != 0 && errno != EINVAL && errno != EBADF) throw_io_error("fsync", "directory", path_, errno);
}

}  // namespace rulake::core
