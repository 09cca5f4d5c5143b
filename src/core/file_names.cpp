// File name validation and directory containment (see include/rulake/core/file_names.hpp).
#include "rulake/core/file_names.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "rulake/core/error.hpp"
#include "rulake/core/posix_file.hpp"

namespace rulake::core {

namespace {

// name with bytes outside printable ASCII written as \xNN, for error messages.
std::string printable(std::string_view name) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : name) {
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(kDigits[c >> 4]);
            out.push_back(kDigits[c & 0xF]);
        }
    }
    return out;
}

// The components of an absolute path; false if it is relative or has a ".." component.
bool split_absolute(std::string_view path, std::vector<std::string_view>* parts) {
    if (path.empty() || path[0] != '/') return false;
    size_t i = 0;
    while (i < path.size()) {
        size_t end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        std::string_view part = path.substr(i, end - i);
        if (part == "..") return false;
        if (!part.empty() && part != ".") parts->push_back(part);
        i = end + 1;
    }
    return true;
}

// realpath() of path, or an Io error.
std::string real_path(const std::string& path, const char* what) {
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
    if (!resolved) throw_io_error("resolve", what, path, errno);
    return resolved.get();
}

}  // namespace

std::string file_name_problem(std::string_view name) {
    if (name.empty()) return "it is empty";
    if (name.size() > kMaxFileNameBytes) {
        return "it is " + std::to_string(name.size()) + " bytes long, more than " + std::to_string(kMaxFileNameBytes);
    }
    if (name == "." || name == "..") return "it refers to a directory";
    for (unsigned char c : name) {
        if (c == '/' || c == '\\' || c == ':') return std::string("it contains the separator '") + static_cast<char>(c) + "'";
        if (c < 0x20 || c == 0x7F) return "it contains a control character";
    }
    return {};
}

void validate_file_name(std::string_view name) {
    const std::string problem = file_name_problem(name);
    if (!problem.empty()) {
        // A very long name is cut in the message; the problem says how long it was.
        std::string shown = printable(name.substr(0, 64)) + (name.size() > 64 ? "..." : "");
        throw Error(ErrorKind::InvalidArgument, "invalid file name \"" + shown + "\": " + problem,
                    "A file name must be 1 to 255 bytes, not \".\" or \"..\", without '/', '\\', ':' or control "
                    "characters.");
    }
}

std::string join_file_name(const std::string& dir, std::string_view name) {
    validate_file_name(name);
    if (!dir.empty() && dir.back() == '/') return dir + std::string(name);
    return dir + "/" + std::string(name);
}

bool path_is_within(std::string_view root, std::string_view path) {
    std::vector<std::string_view> root_parts, path_parts;
    if (!split_absolute(root, &root_parts) || !split_absolute(path, &path_parts)) return false;
    if (path_parts.size() < root_parts.size()) return false;
    for (size_t i = 0; i < root_parts.size(); ++i) {
        if (root_parts[i] != path_parts[i]) return false;
    }
    return true;
}

std::string canonical_directory(const std::string& path) {
    if (path.empty() || path[0] != '/') {
        throw Error(ErrorKind::InvalidArgument, "directory \"" + printable(path) + "\" is not an absolute path");
    }
    std::string resolved = real_path(path, "directory");
    struct stat st;
    if (::stat(resolved.c_str(), &st) != 0) throw_io_error("stat", "directory", path, errno);
    if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::InvalidArgument, "\"" + printable(path) + "\" is not a directory");
    return resolved;
}

std::optional<std::string> resolve_within_roots(const std::vector<std::string>& allowed_roots, const std::string& candidate) {
    const std::string resolved = canonical_directory(candidate);
    for (const std::string& root : allowed_roots) {
        if (root.empty() || root[0] != '/') {
            throw Error(ErrorKind::InvalidArgument, "allowed directory \"" + printable(root) + "\" is not an absolute path");
        }
        std::unique_ptr<char, decltype(&std::free)> resolved_root(::realpath(root.c_str(), nullptr), &std::free);
        if (!resolved_root) continue;  // a configured directory that does not exist contains nothing
        if (path_is_within(resolved_root.get(), resolved)) return resolved;
    }
    return std::nullopt;
}

}  // namespace rulake::core
