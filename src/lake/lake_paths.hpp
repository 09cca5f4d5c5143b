// Where ruLake may touch the server's file system: only inside rulake.allowed_dirs. Every path a user
// names is resolved (symlinks included) and checked against the allowed directories each time it is
// used, so changing the setting takes effect at once and a symlink cannot lead outside.
#pragma once

#include <string>

namespace rulake::lake {

// The canonical form of directory `path`, which must be absolute, exist and lie inside
// rulake.allowed_dirs. With create_leaf, a missing last component is created (mode 0700) when its
// parent is allowed; the last component must then be a valid file name. Errors: 22023 for a relative
// path or bad name, 42501 for a directory outside rulake.allowed_dirs (or none configured), 58030
// (Io) when it cannot be resolved or created.
std::string allowed_directory(const std::string& path, bool create_leaf);

// The canonical path of file `name` inside directory `root`: name must be a valid file name
// (core::validate_file_name), root must still be allowed, and the file, after resolving symlinks, must
// lie inside root. A missing file is an Io error naming it.
std::string file_in_directory(const std::string& root, const std::string& name, const char* what);

}  // namespace rulake::lake
