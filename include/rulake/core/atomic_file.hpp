// Crash-safe replacement of a file: the content is written to a temporary file in the same directory,
// fsynced, renamed over the target and the directory fsynced. Readers of the target see either the old
// file or the complete new one, never a partial write. Temporary files are named
// ".<target name>.tmp.<pid>.<16 hex digits>" and are never read as targets; a crash can leave one
// behind, which readers ignore (is_temporary_file_name() recognises them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rulake/core/directory_handle.hpp"
#include "rulake/core/posix_file.hpp"

namespace rulake::core {

class AtomicFileWriter {
  public:
    // Creates the temporary file in directory dir (mode 0644 before the umask), to replace entry
    // name of dir (a valid file name). Everything happens relative to dir's descriptor (the writer
    // keeps its own): the temporary file is created exclusively, never through a symbolic link, and
    // renamed inside dir. `what` names the file kind in error messages ("bundle file"). Throws Io.
    AtomicFileWriter(const DirectoryHandle& dir, std::string_view name, std::string what);
    // The same for the file at target_path, whose directory is opened following symbolic links.
    AtomicFileWriter(const std::string& target_path, std::string what);
    // Removes the temporary file unless commit() succeeded.
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    // Appends bytes (buffered).
    void write(const void* data, size_t size);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    // Overwrites bytes already appended at offset (e.g. a header count known only at the end).
    void overwrite_at(uint64_t offset, const void* data, size_t size);
    uint64_t size() const { return written_ + buffer_.size(); }
    // SHAKE-256 (32 bytes, lowercase hex) of everything written so far, read back from the temporary
    // file (so overwrite_at() is included). Call before commit().
    std::string shake256_hex();

    // Flushes, fsyncs, renames the temporary file over the target and fsyncs the directory. After a
    // failure the temporary file is removed by the destructor and the target is untouched.
    void commit();

    const std::string& temp_path() const { return temp_path_; }
    const std::string& target_path() const { return target_path_; }

  private:
    void flush();

    DirectoryHandle dir_;
    std::string name_, what_, temp_name_, target_path_, temp_path_;
    UniqueFd fd_;
    std::vector<unsigned char> buffer_;
    uint64_t written_ = 0;
    bool committed_ = false;
};

// Replaces entry name of dir (or the file at target_path) by content through an AtomicFileWriter.
void write_file_atomically(const DirectoryHandle& dir, std::string_view name, std::string_view content,
                           const std::string& what);
void write_file_atomically(const std::string& target_path, std::string_view content, const std::string& what);

// True if name has the form of an AtomicFileWriter temporary file.
bool is_temporary_file_name(std::string_view name);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
