// Checks of server paths against rulake.allowed_dirs (see lake_paths.hpp).
#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"
#include "rulake/core/posix_file.hpp"
#include "rulake/core/directory_handle.hpp"
#include "lake_paths.hpp"
#include "lake_settings.hpp"
#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

using pg::SqlError;

namespace {

std::vector<std::string> configured_roots() {
    std::vector<std::string> roots = allowed_directories();
    if (roots.empty()) {
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "no directory is allowed: rulake.allowed_dirs is empty",
                       {}, "A superuser can list directories in rulake.allowed_dirs.");
    }
    return roots;
}

[[noreturn]] void throw_outside(const std::string& path) {
    throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "directory \"" + path + "\" is not inside rulake.allowed_dirs");
}

bool exists(const std::string& path) {
    struct stat status;
    return ::lstat(path.c_str(), &status) == 0;
}

}  // namespace

std::string allowed_directory(const std::string& path, bool create_leaf) {
    if (path.empty() || path[0] != '/') {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "directory path must be absolute", "The path is \"" + path + "\".");
    }
    const std::vector<std::string> roots = configured_roots();
    if (create_leaf && !exists(path)) {
        std::string trimmed = path;
        while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
        const std::string leaf = core::base_name_of(trimmed);
        core::validate_file_name(leaf);
        const std::optional<std::string> parent = core::resolve_within_roots(roots, core::directory_of(trimmed));
        if (!parent) throw_outside(path);
        core::DirectoryHandle::open_canonical(*parent).make_subdirectory(leaf);
    }
    const std::optional<std::string> resolved = core::resolve_within_roots(roots, path);
    if (!resolved) throw_outside(path);
    return *resolved;
}

core::DirectoryHandle open_allowed_directory(const std::string& path, bool create_leaf) {
    return core::DirectoryHandle::open_canonical(allowed_directory(path, create_leaf));
}

core::OpenedFile open_file_in_directory(const std::string& root, const std::string& name, const char* what) {
    return open_allowed_directory(root, false).open_file(name, what);
}

std::string file_in_directory(const std::string& root, const std::string& name, const char* what) {
    return open_file_in_directory(root, name, what).path;
}

}  // namespace rulake::lake
