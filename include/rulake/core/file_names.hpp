// Validation of user-supplied file names and containment of directories in an allow-list, so that
// SQL callers cannot reach files outside the directories an administrator configured.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rulake::core {

inline constexpr size_t kMaxFileNameBytes = 255;

// Why name is not acceptable as a single file name, or an empty string if it is. Rules: not empty, at
// most 255 bytes, not "." or "..", no '/', '\\' or ':', no control bytes (below 0x20, or 0x7F).
std::string file_name_problem(std::string_view name);
// Throws InvalidArgument "invalid file name "<name>": <problem>" (non-printable bytes shown as \xNN).
void validate_file_name(std::string_view name);
// dir + "/" + name after validate_file_name(name).
std::string join_file_name(const std::string& dir, std::string_view name);

// True if path equals root or lies below it, comparing whole path components ("/srv/a" contains
// "/srv/a" and "/srv/a/b", not "/srv/ab"). Both must be absolute and free of ".." components (as
// realpath() returns them); anything else is not contained. Repeated and trailing slashes and "."
// components are ignored.
bool path_is_within(std::string_view root, std::string_view path);

// The canonical form (realpath) of an existing directory. Throws InvalidArgument if path is relative or
// not a directory, Io if it cannot be resolved (e.g. it does not exist).
std::string canonical_directory(const std::string& path);

// Resolves candidate (symlinks included) and returns its canonical path if it is one of allowed_roots
// or lies below one of them (roots are resolved too; roots that do not exist are skipped), nullopt if it
// is outside all of them. Throws like canonical_directory() for the candidate, and InvalidArgument for
// a relative root.
std::optional<std::string> resolve_within_roots(const std::vector<std::string>& allowed_roots, const std::string& candidate);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
