// Checks of server paths against rulake.allowed_dirs (see lake_paths.hpp).
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"
#include "rulake/core/posix_file.hpp"
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
        const std::string created = core::join_file_name(*parent, leaf);
        if (::mkdir(created.c_str(), 0700) != 0 && errno != EEXIST) {
            core::throw_io_error("create", "directory", created, errno);
        }
    }
    const std::optional<std::string> resolved = core::resolve_within_roots(roots, path);
    if (!resolved) throw_outside(path);
    return *resolved;
}

std::string file_in_directory(const std::string& root, const std::string& name, const char* what) {
    const std::string directory = allowed_directory(root, false);
    const std::string path = core::join_file_name(directory, name);  // validates name
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
    if (!resolved) core::throw_io_error("open", what, path, errno);
    if (!core::path_is_within(directory, resolved.get())) {
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                       std::string(what) + " \"" + path + "\" resolves to a path outside its directory",
                       "It resolves to \"" + std::string(resolved.get()) + "\".");
    }
    return resolved.get();
}

}  // namespace rulake::lake
