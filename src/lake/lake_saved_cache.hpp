// Saved caches: a directory holding a sidecar (table.rulake.json) and an .rbpx payload. rulake's
// save_cache names the payload after the witness ("cache-<first 16 hex digits of the witness>.rbpx")
// and records its name, size and SHAKE-256 digest in the sidecar (the payload_* fields), which it
// writes last. Readers open the payload the sidecar names and check its size when opening and its
// digest in the same pass that loads it, so a payload that is not the sidecar's (a crash between
// the two renames, files mixed from two saves) is refused instead of being installed under the
// sidecar's witness. Sidecars without payload fields (the reference's) are read as before: cache.rbpx
// or else the only .rbpx file, where rulake's payloads of other witnesses do not count.
#pragma once

#include <optional>
#include <string>

#include "rulake/core/bundle_json.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/rbpx_file.hpp"

namespace rulake::lake {

// The name save_cache gives the payload of the cache with this witness.
std::string saved_payload_name(const std::string& witness);
// True for names of the form saved_payload_name() gives.
bool is_saved_payload_name(const std::string& name);

// The payload of a saved cache, opened through its directory and checked against the sidecar.
class SavedPayload {
  public:
    // Opens the payload that `bundle`, the sidecar of dir, describes: `name` if given (it must then be
    // the file the sidecar names, 55000 "... changed while it was read" otherwise), else the file the
    // sidecar names or, for sidecars without payload fields, the one found as described above (58P01
    // if none, 58P02 if several). Errors: XX001 when the sidecar's payload is missing or has another
    // size; the errors of DirectoryHandle::open_file (symbolic links, not a regular file) and of
    // core::RbpxReader.
    SavedPayload(const core::DirectoryHandle& dir, const core::Bundle& bundle, const std::string& name = {});

    core::RbpxReader& reader() { return *reader_; }
    const std::string& path() const { return path_; }
    // Whether the sidecar recorded a digest that verify() will check.
    bool has_digest() const { return expected_.has_value(); }

    // After every entry was read: XX001 "cache file "<path>" does not match its bundle" unless the
    // file's digest is the one the sidecar recorded (nothing to check without payload fields).
    void verify();

  private:
    std::optional<core::BundlePayload> expected_;
    std::string path_;
    std::optional<core::RbpxReader> reader_;
};

// The payload at `path` (as _inspect_warm_dir reported it), for loading: its directory must be
// allowed and still hold a sidecar naming this payload (55000 "... changed while it was read"
// otherwise, or when the sidecar is gone).
SavedPayload open_saved_payload(const std::string& path);

}  // namespace rulake::lake
