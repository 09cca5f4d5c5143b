// The bundle sidecar (see include/rulake/core/bundle_json.hpp).
#include "rulake/core/bundle_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "rulake/core/atomic_file.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"
#include "rulake/core/posix_file.hpp"

namespace rulake::core {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr const char* kBundleWhat = "bundle file";

[[noreturn]] void invalid(const std::string& message, ErrorKind kind = ErrorKind::InvalidText) {
    throw Error(kind, "invalid bundle sidecar: " + message);
}

std::string field_name(std::string_view field) { return "field \"" + std::string(field) + "\""; }

// nlohmann's messages start with "[json.exception.<kind>.<id>] "; keep only the human part.
std::string without_exception_tag(const char* what) {
    std::string message(what);
    if (!message.empty() && message[0] == '[') {
        size_t end = message.find("] ");
        if (end != std::string::npos) message.erase(0, end + 2);
    }
    return message;
}

// An unsigned 64-bit integer from a JSON value. subject names the value in errors ("generation",
// "field \"dim\"", ...).
uint64_t to_u64(const Json& value, const std::string& subject) {
    switch (value.type()) {
        case Json::value_t::number_unsigned:
            return value.get<uint64_t>();
        case Json::value_t::number_integer:
            // Non-negative integers parse as unsigned; only "-0" lands here with value 0.
            if (value.get<int64_t>() == 0) return 0;
            throw Error(ErrorKind::OutOfRange, subject + " must not be negative");
        case Json::value_t::number_float: {
            double d = value.get<double>();
            if (d < 0) throw Error(ErrorKind::OutOfRange, subject + " must not be negative");
            if (std::isfinite(d) && d == std::floor(d) && d >= 18446744073709551616.0) {
                throw Error(ErrorKind::OutOfRange, subject + " is out of range (at most 18446744073709551615)");
            }
            throw Error(ErrorKind::InvalidText, subject + " must be an integer without a fraction or exponent");
        }
        default:
            throw Error(ErrorKind::InvalidText, subject + " must be a number, not " + value.type_name());
    }
}

Generation to_generation(const Json& value, const std::string& subject) {
    if (value.is_string()) return Generation::opaque(value.get<std::string>());
    if (value.is_number()) return Generation::number(to_u64(value, subject));
    throw Error(ErrorKind::InvalidText, subject + " must be a number or a string, not " + value.type_name());
}

// Re-raises a field error of the sidecar with the common prefix.
template <typename Fn>
auto sidecar_field(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const Error& e) {
        invalid(e.what(), e.kind());
    }
}

// The value of a required field.
const Json& required(const Json& doc, const char* field) {
    auto it = doc.find(field);
    if (it == doc.end()) invalid("missing " + field_name(field));
    return *it;
}

std::string required_string(const Json& doc, const char* field) {
    const Json& value = required(doc, field);
    if (!value.is_string()) invalid(field_name(field) + " must be a string, not " + value.type_name());
    return value.get<std::string>();
}

// An optional text field: absent or null -> nullopt.
std::optional<std::string> optional_string(const Json& doc, const char* field) {
    auto it = doc.find(field);
    if (it == doc.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) invalid(field_name(field) + " must be a string or null, not " + it->type_name());
    return it->get<std::string>();
}

// Applies a byte cap to a string field if it is present and a string (types are checked later).
void check_cap(const Json& doc, const char* field, size_t cap) {
    auto it = doc.find(field);
    if (it == doc.end() || !it->is_string()) return;
    size_t size = it->get_ref<const std::string&>().size();
    if (size > cap) {
        invalid(field_name(field) + " is too long: " + std::to_string(size) + " bytes (limit " + std::to_string(cap) + ")",
                ErrorKind::Limit);
    }
}

// Caps and UTF-8 of the free-text fields, shared by make_bundle() and serialize_bundle_json().
void check_text_field(const std::optional<std::string>& value, const char* field) {
    if (!value) return;
    if (value->size() > kMaxBundleTextFieldBytes) {
        throw Error(ErrorKind::Limit, "bundle " + field_name(field) + " is too long: " + std::to_string(value->size()) +
                                          " bytes (limit " + std::to_string(kMaxBundleTextFieldBytes) + ")");
    }
    if (!is_valid_utf8(*value)) {
        throw Error(ErrorKind::InvalidArgument, "bundle " + field_name(field) + " is not valid UTF-8");
    }
}

// Why payload fields are not acceptable, or an empty string if they are.
std::string payload_problem(const BundlePayload& payload) {
    const std::string name_problem = file_name_problem(payload.file);
    if (!name_problem.empty()) return field_name("payload_file") + " is not a valid file name: " + name_problem;
    if (payload.file == kBundleFileName) return field_name("payload_file") + " names the sidecar itself";
    if (!is_witness_text(payload.shake256)) return field_name("payload_shake256") + " must be 64 lowercase hex characters";
    return {};
}

// The payload fields of a sidecar: all three or none.
std::optional<BundlePayload> parse_payload(const Json& doc) {
    const int present = static_cast<int>(doc.contains("payload_file")) + static_cast<int>(doc.contains("payload_bytes")) +
                        static_cast<int>(doc.contains("payload_shake256"));
    if (present == 0) return std::nullopt;
    if (present != 3) invalid("fields \"payload_file\", \"payload_bytes\" and \"payload_shake256\" come together");
    BundlePayload payload;
    payload.file = required_string(doc, "payload_file");
    payload.bytes = sidecar_field([&] { return to_u64(required(doc, "payload_bytes"), field_name("payload_bytes")); });
    payload.shake256 = required_string(doc, "payload_shake256");
    const std::string problem = payload_problem(payload);
    if (!problem.empty()) invalid(problem);
    return payload;
}

void check_writable(const Bundle& bundle) {
    check_text_field(bundle.fields.data_ref, "data_ref");
    check_text_field(bundle.pii_policy, "pii_policy");
    check_text_field(bundle.lineage_id, "lineage_id");
    check_text_field(bundle.memory_class, "memory_class");
    if (!bundle.fields.generation.is_number() && !is_valid_utf8(bundle.fields.generation.opaque_value())) {
        throw Error(ErrorKind::InvalidArgument,
                    "bundle generation is not valid UTF-8 (a sidecar can only hold text generations)");
    }
    if (bundle.payload) {
        const std::string problem = payload_problem(*bundle.payload);
        if (!problem.empty()) throw Error(ErrorKind::InvalidArgument, "bundle " + problem);
    }
    if (bundle.rvf_witness != compute_witness(bundle.fields)) {
        throw Error(ErrorKind::Internal, "bundle witness does not match its fields");
    }
}

// Parses JSON text, rejecting duplicate keys of the top-level object.
Json parse_document(std::string_view text) {
    std::set<std::string> seen;
    std::string duplicate;
    auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::key && depth == 1 && duplicate.empty()) {
            const std::string& key = parsed.get_ref<const std::string&>();
            if (!seen.insert(key).second) duplicate = key;
        }
        return true;
    };
    Json doc;
    try {
        doc = Json::parse(text.begin(), text.end(), on_event);
    } catch (const Json::exception& e) {
        invalid(without_exception_tag(e.what()));
    }
    if (!duplicate.empty()) invalid("duplicate " + field_name(duplicate));
    return doc;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
    size_t i = 0;
    const size_t n = bytes.size();
    while (i < n) {
        auto b = static_cast<unsigned char>(bytes[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF) {
            len = 2, cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3, cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4, cp = b & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            auto c = static_cast<unsigned char>(bytes[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = cp << 6 | (c & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        i += len;
    }
    return true;
}

Bundle make_bundle(WitnessFields fields, std::optional<std::string> pii_policy, std::optional<std::string> lineage_id,
                   std::optional<std::string> memory_class) {
    Bundle bundle;
    bundle.fields = std::move(fields);
    bundle.pii_policy = std::move(pii_policy);
    bundle.lineage_id = std::move(lineage_id);
    bundle.memory_class = std::move(memory_class);
    bundle.rvf_witness = compute_witness(bundle.fields);
    check_writable(bundle);
    return bundle;
}

Bundle parse_bundle_json(std::string_view text) {
    if (text.size() > kMaxBundleFileBytes) {
        invalid("too large: " + std::to_string(text.size()) + " bytes (limit " + std::to_string(kMaxBundleFileBytes) + ")",
                ErrorKind::Limit);
    }
    const Json doc = parse_document(text);
    if (!doc.is_object()) invalid(std::string("the document must be a JSON object, not ") + doc.type_name());

    // Caps first, before any other work on the fields.
    check_cap(doc, "data_ref", kMaxBundleTextFieldBytes);
    check_cap(doc, "pii_policy", kMaxBundleTextFieldBytes);
    check_cap(doc, "lineage_id", kMaxBundleTextFieldBytes);
    check_cap(doc, "memory_class", kMaxBundleTextFieldBytes);
    check_cap(doc, "rvf_witness", kMaxBundleWitnessChars);
    check_cap(doc, "payload_file", kMaxFileNameBytes);
    check_cap(doc, "payload_shake256", kMaxBundleWitnessChars);

    const uint64_t version = sidecar_field([&] { return to_u64(required(doc, "format_version"), field_name("format_version")); });
    if (version != kBundleFormatVersion) {
        throw Error(ErrorKind::NotSupported, "unsupported bundle format_version " + std::to_string(version),
                    "This reader understands format_version " + std::to_string(kBundleFormatVersion) + ".");
    }

    Bundle bundle;
    bundle.fields.data_ref = required_string(doc, "data_ref");
    bundle.fields.dim = sidecar_field([&] { return to_u64(required(doc, "dim"), field_name("dim")); });
    bundle.fields.rotation_seed = sidecar_field([&] { return to_u64(required(doc, "rotation_seed"), field_name("rotation_seed")); });
    bundle.fields.rerank_factor = sidecar_field([&] { return to_u64(required(doc, "rerank_factor"), field_name("rerank_factor")); });
    bundle.fields.generation = sidecar_field([&] { return to_generation(required(doc, "generation"), field_name("generation")); });
    bundle.rvf_witness = required_string(doc, "rvf_witness");
    bundle.pii_policy = optional_string(doc, "pii_policy");
    bundle.lineage_id = optional_string(doc, "lineage_id");
    bundle.memory_class = optional_string(doc, "memory_class");
    bundle.payload = parse_payload(doc);

    if (!is_witness_text(bundle.rvf_witness)) invalid(field_name("rvf_witness") + " must be 64 lowercase hex characters");
    const std::string expected = compute_witness(bundle.fields);
    if (expected != bundle.rvf_witness) {
        throw Error(ErrorKind::Corrupted, "bundle witness mismatch: expected " + expected + ", found " + bundle.rvf_witness,
                    "The witness recomputed from data_ref, dim, rotation_seed, rerank_factor and generation differs "
                    "from rvf_witness: the sidecar was modified or damaged.");
    }
    return bundle;
}

std::string serialize_bundle_json(const Bundle& bundle) {
    check_writable(bundle);
    OrderedJson doc;
    doc["format_version"] = kBundleFormatVersion;
    doc["data_ref"] = bundle.fields.data_ref;
    doc["dim"] = bundle.fields.dim;
    doc["rotation_seed"] = bundle.fields.rotation_seed;
    doc["rerank_factor"] = bundle.fields.rerank_factor;
    if (bundle.fields.generation.is_number()) {
        doc["generation"] = bundle.fields.generation.number_value();
    } else {
        doc["generation"] = bundle.fields.generation.opaque_value();
    }
    doc["rvf_witness"] = bundle.rvf_witness;
    doc["pii_policy"] = bundle.pii_policy ? OrderedJson(*bundle.pii_policy) : OrderedJson(nullptr);
    doc["lineage_id"] = bundle.lineage_id ? OrderedJson(*bundle.lineage_id) : OrderedJson(nullptr);
    if (bundle.memory_class) doc["memory_class"] = *bundle.memory_class;
    if (bundle.payload) {
        doc["payload_file"] = bundle.payload->file;
        doc["payload_bytes"] = bundle.payload->bytes;
        doc["payload_shake256"] = bundle.payload->shake256;
    }
    std::string text = doc.dump(2);
    text.push_back('\n');
    if (text.size() > kMaxBundleFileBytes) {
        throw Error(ErrorKind::Limit, "bundle sidecar would be too large: " + std::to_string(text.size()) +
                                          " bytes (limit " + std::to_string(kMaxBundleFileBytes) + ")");
    }
    return text;
}

namespace {

// Reads and verifies the sidecar open as fd (named path in messages).
Bundle read_open_bundle(const UniqueFd& fd, const std::string& path) {
    try {
        const FileStatus status = status_of_regular_file(fd.get(), kBundleWhat, path);
        if (status.size > kMaxBundleFileBytes) {
            invalid("too large: " + std::to_string(status.size) + " bytes (limit " +
                        std::to_string(kMaxBundleFileBytes) + ")",
                    ErrorKind::Limit);
        }
        // One byte more than the cap, so a file that grew since fstat is still caught.
        std::string text(kMaxBundleFileBytes + 1, '\0');
        text.resize(read_at(fd.get(), text.data(), text.size(), 0, kBundleWhat, path));
        return parse_bundle_json(text);
    } catch (const Error& e) {
        // I/O and file-type errors name the path already; content errors get it in the detail, so the
        // message itself stays independent of where the file lives.
        if (e.kind() == ErrorKind::Io || e.kind() == ErrorKind::InvalidArgument) throw;
        std::string detail = e.detail().empty() ? std::string() : e.detail() + " ";
        detail += "Bundle file: \"" + path + "\".";
        throw Error(e.kind(), e.what(), detail);
    }
}

}  // namespace

std::optional<Bundle> read_bundle_file_if_exists(const std::string& path) {
    UniqueFd fd = open_for_reading(path, kBundleWhat, /*missing_ok=*/true);
    if (!fd.valid()) return std::nullopt;
    return read_open_bundle(fd, path);
}

std::optional<Bundle> read_bundle_in(const DirectoryHandle& dir, std::string_view name) {
    std::optional<OpenedFile> file = dir.open_file_if_exists(name, kBundleWhat);
    if (!file) return std::nullopt;
    return read_open_bundle(file->fd, file->path);
}

Bundle read_bundle_file(const std::string& path) {
    std::optional<Bundle> bundle = read_bundle_file_if_exists(path);
    if (!bundle) throw_io_error("open", kBundleWhat, path, ENOENT);
    return std::move(*bundle);
}

void write_bundle_file(const std::string& path, const Bundle& bundle) {
    write_file_atomically(path, serialize_bundle_json(bundle), kBundleWhat);
}

void write_bundle_in(const DirectoryHandle& dir, const Bundle& bundle) {
    write_file_atomically(dir, kBundleFileName, serialize_bundle_json(bundle), kBundleWhat);
}

Generation parse_generation_json(std::string_view json_text) {
    Json value;
    try {
        value = Json::parse(json_text.begin(), json_text.end());
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::InvalidText, "invalid generation: " + without_exception_tag(e.what()));
    }
    return to_generation(value, "generation");
}

}  // namespace rulake::core
