// Saved caches: choosing, opening and verifying the payload of a sidecar (see lake_saved_cache.hpp).
#include <algorithm>
#include <string>
#include <vector>

#include "rulake/core/atomic_file.hpp"
#include "rulake/core/bundle_json.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/posix_file.hpp"
#include "rulake/core/rbpx_file.hpp"
#include "lake_paths.hpp"
#include "lake_saved_cache.hpp"
#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

using pg::SqlError;

namespace {

constexpr const char* kLegacyCacheFileName = "cache.rbpx";
constexpr const char* kCacheFileSuffix = ".rbpx";
constexpr const char* kPayloadPrefix = "cache-";
constexpr size_t kPayloadWitnessDigits = 16;
constexpr const char* kWhat = "cache file";

bool has_suffix(const std::string& name, const std::string& suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void throw_changed(const std::string& path) {
    throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "cache file \"" + path + "\" changed while it was read");
}

// The .rbpx file of a directory whose sidecar names none: cache.rbpx if present, else the only *.rbpx
// file (bundles made elsewhere name theirs after the data). Temporary files of interrupted writes and
// rulake's payloads of other witnesses are ignored.
std::string find_cache_file(const core::DirectoryHandle& dir, const std::string& witness) {
    const std::string own = saved_payload_name(witness);
    std::vector<std::string> candidates;
    for (const std::string& name : dir.entry_names()) {
        if (name.empty() || name[0] == '.' || core::is_temporary_file_name(name)) continue;
        if (!has_suffix(name, kCacheFileSuffix)) continue;
        if (is_saved_payload_name(name) && name != own) continue;
        candidates.push_back(name);
    }
    if (std::find(candidates.begin(), candidates.end(), kLegacyCacheFileName) != candidates.end()) {
        return kLegacyCacheFileName;
    }
    if (candidates.size() == 1) return candidates.front();
    if (candidates.empty()) {
        throw SqlError(ERRCODE_UNDEFINED_FILE, "no cache file (*.rbpx) in directory \"" + dir.path() + "\"");
    }
    std::sort(candidates.begin(), candidates.end());
    std::string names;
    for (const std::string& name : candidates) names += (names.empty() ? "" : ", ") + name;
    throw SqlError(ERRCODE_DUPLICATE_FILE, "more than one cache file in directory \"" + dir.path() + "\"",
                   "Found " + names + ".", "Keep one .rbpx file per directory, or name it cache.rbpx.");
}

[[noreturn]] void throw_mismatch(const std::string& path, const std::string& detail) {
    throw SqlError(ERRCODE_DATA_CORRUPTED, "cache file \"" + path + "\" does not match its bundle", detail,
                   "The directory mixes files of different saves (or a save was interrupted): save the cache again.");
}

}  // namespace

std::string saved_payload_name(const std::string& witness) {
    return kPayloadPrefix + witness.substr(0, kPayloadWitnessDigits) + kCacheFileSuffix;
}

bool is_saved_payload_name(const std::string& name) {
    const size_t prefix = std::char_traits<char>::length(kPayloadPrefix);
    const size_t suffix = std::char_traits<char>::length(kCacheFileSuffix);
    if (name.size() != prefix + kPayloadWitnessDigits + suffix || name.compare(0, prefix, kPayloadPrefix) != 0 ||
        !has_suffix(name, kCacheFileSuffix)) {
        return false;
    }
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix),
                       name.begin() + static_cast<std::ptrdiff_t>(prefix + kPayloadWitnessDigits),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

SavedPayload::SavedPayload(const core::DirectoryHandle& dir, const core::Bundle& bundle, const std::string& name)
    : expected_(bundle.payload) {
    std::string chosen = name;
    if (expected_) {
        if (!chosen.empty() && chosen != expected_->file) throw_changed(dir.path_of(chosen));
        chosen = expected_->file;
    } else if (chosen.empty()) {
        chosen = find_cache_file(dir, bundle.rvf_witness);
    }
    path_ = dir.path_of(chosen);
    std::optional<core::OpenedFile> file = dir.open_file_if_exists(chosen, kWhat);
    if (!file) {
        if (!expected_) core::throw_io_error("open", kWhat, path_, ENOENT);
        throw_mismatch(path_, "The bundle names it, but it does not exist.");
    }
    if (expected_ && file->status.size != expected_->bytes) {
        throw_mismatch(path_, "The bundle records " + std::to_string(expected_->bytes) + " bytes, the file has " +
                                  std::to_string(file->status.size) + ".");
    }
    reader_.emplace(std::move(*file));
    if (expected_) reader_->track_digest();
}

void SavedPayload::verify() {
    if (!expected_) return;
    const std::string found = reader_->digest_hex();
    if (found != expected_->shake256) {
        throw_mismatch(path_, "The bundle records SHAKE-256 " + expected_->shake256 + ", the file has " + found + ".");
    }
}

SavedPayload open_saved_payload(const std::string& path) {
    // The directory is checked again: the setting may have changed since the caller looked.
    const core::DirectoryHandle dir = open_allowed_directory(core::directory_of(path), false);
    const std::optional<core::Bundle> bundle = core::read_bundle_in(dir);
    if (!bundle) throw_changed(path);
    return SavedPayload(dir, *bundle, core::base_name_of(path));
}

}  // namespace rulake::lake
