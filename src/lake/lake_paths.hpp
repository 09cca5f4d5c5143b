// Where ruLake may touch the server's file system: only inside rulake.allowed_dirs. Every directory a
// user names is resolved (symlinks included) and checked against the allowed directories each time it
// is used, so changing the setting takes effect at once; it is then opened (core::DirectoryHandle,
// without following symbolic links on the checked path) and every file in it is opened relative to
// that handle, never through a symbolic link, so nothing can be swapped in between check and use.
#pragma once

#include <string>

#include "rulake/core/directory_handle.hpp"

namespace rulake::lake {

// The canonical form of directory `path`, which must be absolute, exist and lie inside
// rulake.allowed_dirs. With create_leaf, a missing last component is created (mode 0700) when its
// parent is allowed; the last component must then be a valid file name. Errors: 22023 for a relative
// path or bad name, 42501 for a directory outside rulake.allowed_dirs (or none configured), 58030
// (Io) when it cannot be resolved or created.
std::string allowed_directory(const std::string& path, bool create_leaf);

// The allowed directory at `path` (checked as allowed_directory() does), opened. With create_leaf, a
// missing last component is created inside its opened parent.
core::DirectoryHandle open_allowed_directory(const std::string& path, bool create_leaf);

// Regular file `name` (a valid file name, core::validate_file_name) of allowed directory `root`,
// opened through the directory's handle. A symbolic link there is refused (58030 "<what> "<path>" is a
// symbolic link"), as is anything but a regular file (22023); a missing file is an Io error naming it.
core::OpenedFile open_file_in_directory(const std::string& root, const std::string& name, const char* what);

// The path of regular file `name` of allowed directory `root`, after the checks of
// open_file_in_directory(). For callers that only stat the file; readers use open_file_in_directory().
std::string file_in_directory(const std::string& root, const std::string& name, const char* what);

}  // namespace rulake::lake
