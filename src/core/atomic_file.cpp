// Crash-safe file replacement (see include/rulake/core/atomic_file.hpp).
#include "rulake/core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>

#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"
#include "rulake/core/shake256.hpp"

namespace rulake::core {

namespace {

constexpr size_t kBufferBytes = 1 << 16;
constexpr std::string_view kTempMarker = ".tmp.";
// Keeps the temporary name within NAME_MAX (255) even for a long target name.
constexpr size_t kMaxTargetNameInTemp = 200;

std::string random_hex16() {
    std::random_device device;
    uint64_t r = (static_cast<uint64_t>(device()) << 32) ^ device();
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex(16, '0');
    for (int i = 15; i >= 0; --i, r >>= 4) hex[static_cast<size_t>(i)] = kDigits[r & 0xf];
    return hex;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const DirectoryHandle& dir, std::string_view name, std::string what)
    : dir_(dir.duplicate()), name_(name), what_(std::move(what)) {
    validate_file_name(name_);
    target_path_ = dir_.path_of(name_);
    const std::string prefix = "." + name_.substr(0, kMaxTargetNameInTemp) + std::string(kTempMarker) +
                               std::to_string(::getpid()) + ".";
    for (int attempt = 0;; ++attempt) {
        std::string candidate = prefix + random_hex16();
        int fd;
        do {
            fd = ::openat(dir_.fd(), candidate.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        } while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            fd_ = UniqueFd(fd);
            temp_name_ = std::move(candidate);
            temp_path_ = dir_.path_of(temp_name_);
            break;
        }
        if (errno != EEXIST || attempt >= 8) throw_io_error("create temporary", what_, dir_.path_of(candidate), errno);
    }
    buffer_.reserve(kBufferBytes);
}

AtomicFileWriter::AtomicFileWriter(const std::string& target_path, std::string what)
    : AtomicFileWriter(DirectoryHandle::open(directory_of(target_path)), base_name_of(target_path), std::move(what)) {}

AtomicFileWriter::~AtomicFileWriter() {
    if (!committed_ && !temp_name_.empty()) {
        fd_.reset();
        ::unlinkat(dir_.fd(), temp_name_.c_str(), 0);
    }
}

void AtomicFileWriter::write(const void* data, size_t size) {
    if (committed_) throw Error(ErrorKind::Internal, "write to a committed " + what_);
    const auto* in = static_cast<const unsigned char*>(data);
    if (buffer_.size() + size > kBufferBytes) flush();
    if (size >= kBufferBytes) {
        write_all(fd_.get(), in, size, what_, temp_path_);
        written_ += size;
        return;
    }
    buffer_.insert(buffer_.end(), in, in + size);
}

void AtomicFileWriter::overwrite_at(uint64_t offset, const void* data, size_t size) {
    if (committed_) throw Error(ErrorKind::Internal, "write to a committed " + what_);
    if (offset + size > this->size()) throw Error(ErrorKind::Internal, "overwrite past the end of " + what_);
    flush();
    write_all_at(fd_.get(), data, size, offset, what_, temp_path_);
}

void AtomicFileWriter::flush() {
    if (buffer_.empty()) return;
    write_all(fd_.get(), buffer_.data(), buffer_.size(), what_, temp_path_);
    written_ += buffer_.size();
    buffer_.clear();
}

std::string AtomicFileWriter::shake256_hex() {
    if (committed_) throw Error(ErrorKind::Internal, "digest of a committed " + what_);
    flush();
    Shake256 digest;
    std::vector<unsigned char> chunk(kBufferBytes);
    for (uint64_t offset = 0; offset < written_;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), written_ - offset));
        const size_t got = read_at(fd_.get(), chunk.data(), want, offset, what_, temp_path_);
        if (got != want) throw Error(ErrorKind::Io, "temporary " + what_ + " \"" + temp_path_ + "\" shrank while it was written");
        digest.update(chunk.data(), got);
        offset += got;
    }
    return digest.finish_hex(kFileDigestBytes);
}

void AtomicFileWriter::commit() {
    if (committed_) throw Error(ErrorKind::Internal, what_ + " committed twice");
    flush();
    sync_file(fd_.get(), what_, temp_path_);
    if (::close(fd_.release()) != 0) throw_io_error("close", what_, temp_path_, errno);
    if (::renameat(dir_.fd(), temp_name_.c_str(), dir_.fd(), name_.c_str()) != 0) {
        throw_io_error("rename", what_, target_path_, errno);
    }
    committed_ = true;
    dir_.sync();
}

void write_file_atomically(const DirectoryHandle& dir, std::string_view name, std::string_view content,
                           const std::string& what) {
    AtomicFileWriter writer(dir, name, what);
    writer.write(content);
    writer.commit();
}

void write_file_atomically(const std::string& target_path, std::string_view content, const std::string& what) {
    write_file_atomically(DirectoryHandle::open(directory_of(target_path)), base_name_of(target_path), content, what);
}

bool is_temporary_file_name(std::string_view name) {
    if (name.size() < 1 + kTempMarker.size() + 1 + 1 + 16 || name[0] != '.') return false;
    size_t marker = name.rfind(kTempMarker);
    if (marker == std::string_view::npos || marker < 2) return false;
    std::string_view tail = name.substr(marker + kTempMarker.size());  // "<pid>.<hex16>"
    size_t dot = tail.find('.');
    if (dot == 0 || dot == std::string_view::npos || tail.size() - dot - 1 != 16) return false;
    for (char c : tail.substr(0, dot)) {
        if (c < '0' || c > '9') return false;
    }
    for (char c : tail.substr(dot + 1)) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace rulake::core
