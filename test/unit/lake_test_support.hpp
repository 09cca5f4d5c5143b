// Helpers shared by the ruLake format tests: locating the reference fixtures, scratch directories and
// whole-file I/O.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace rulake::test {

// The folder of the reference ruLake fixtures (README.md, witness-vectors.tsv, sample.ruvec1, ...).
// Looked up in $RULAKE_SHARED/reference if RULAKE_SHARED is set, else in ../shared/reference relative
// to the working directory and to the repository holding this test binary (build/unit*/rulake_unit).
// Throws (failing the calling test, never skipping it) when the folder cannot be found.
inline std::filesystem::path reference_dir() {
    namespace fs = std::filesystem;
    std::vector<fs::path> candidates;
    if (const char* shared = std::getenv("RULAKE_SHARED"); shared != nullptr && *shared != '\0') {
        candidates.push_back(fs::path(shared) / "reference");
    } else {
        candidates.push_back(fs::current_path() / ".." / "shared" / "reference");
        std::error_code ec;
        fs::path exe = fs::read_symlink("/proc/self/exe", ec);
        if (!ec) candidates.push_back(exe.parent_path() / ".." / ".." / ".." / "shared" / "reference");
    }
    for (const fs::path& dir : candidates) {
        std::error_code ec;
        if (fs::is_regular_file(dir / "witness-vectors.tsv", ec)) return fs::canonical(dir);
    }
    std::string tried;
    for (const fs::path& dir : candidates) tried += " " + dir.string();
    throw std::runtime_error("reference fixtures not found (set RULAKE_SHARED); tried:" + tried);
}

inline std::filesystem::path reference_file(const std::string& name) {
    std::filesystem::path path = reference_dir() / name;
    if (!std::filesystem::is_regular_file(path)) {
        throw std::runtime_error("reference fixture missing: " + path.string());
    }
    return path;
}

// A file of the repository's test/fixtures, found relative to the test binary (build/unit*/rulake_unit)
// or to the working directory (the repository root under `make unit`). Throws if it is missing.
inline std::filesystem::path repo_fixture(const std::string& name) {
    namespace fs = std::filesystem;
    std::vector<fs::path> candidates = {fs::current_path() / "test" / "fixtures" / name};
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path() / ".." / ".." / "test" / "fixtures" / name);
    for (const fs::path& path : candidates) {
        if (fs::is_regular_file(path, ec)) return path;
    }
    throw std::runtime_error("repository fixture missing: test/fixtures/" + name);
}

inline std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_whole_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Appends value to bytes in little-endian order (integers and floats), for building test files.
template <typename T>
void append_le(std::string& bytes, T value) {
    unsigned char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    // The tests run on little-endian hosts only (x86-64, aarch64); the formats are little endian.
    bytes.append(reinterpret_cast<const char*>(raw), sizeof(T));
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class ScratchDir {
  public:
    ScratchDir() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/rulake-unit.XXXXXX";
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        if (mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = buffer.data();
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace rulake::test
