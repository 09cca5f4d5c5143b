// The bundle sidecar: the reference files, byte-exact serialization, every cap, malformed input, and
// crash-safe writing.
#include "rulake/core/bundle_json.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lake_test_support.hpp"
#include "rulake/core/atomic_file.hpp"
#include "rulake/core/error.hpp"

namespace rc = rulake::core;
namespace rt = rulake::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kReferenceWitness = "c159c3e1ca433f8b44f368e2d0748cf685718e3beaa75772a8e695dca473a207";

// The error kind and message fn throws; fails the test if it throws nothing or something else.
struct Thrown {
    rc::ErrorKind kind = rc::ErrorKind::Internal;
    std::string message, detail;
    bool thrown = false;
};
Thrown thrown_by(const std::function<void()>& fn) {
    Thrown t;
    try {
        fn();
    } catch (const rc::Error& e) {
        t.kind = e.kind();
        t.message = e.what();
        t.detail = e.detail();
        t.thrown = true;
    }
    EXPECT_TRUE(t.thrown) << "no core::Error thrown";
    return t;
}

#define EXPECT_BUNDLE_ERROR(text, expected_kind, message_part)                            \
    do {                                                                                  \
        Thrown t_ = thrown_by([&] { rc::parse_bundle_json(text); });                      \
        EXPECT_EQ(static_cast<int>(t_.kind), static_cast<int>(rc::ErrorKind::expected_kind)) << t_.message; \
        EXPECT_NE(t_.message.find(message_part), std::string::npos) << t_.message;       \
    } while (0)

// A sidecar spelled out field by field as raw JSON texts; the witness defaults to the right one for
// the default field values.
struct RawSidecar {
    std::string format_version = "2";
    std::string data_ref = "\"file:///srv/v.ruvec1\"";
    std::string dim = "8";
    std::string rotation_seed = "42";
    std::string rerank_factor = "20";
    std::string generation = "1700000000";
    std::string rvf_witness;  // empty: computed for the default fields
    std::string pii_policy = "null";
    std::string lineage_id = "null";
    std::optional<std::string> memory_class;
    std::string extra;  // appended verbatim before the closing brace, e.g. ",\n  \"x\": 1"

    std::string text() const {
        std::string w = rvf_witness;
        if (w.empty()) {
            w = "\"" + rc::compute_witness({"file:///srv/v.ruvec1", 8, 42, 20, rc::Generation::number(1700000000)}) + "\"";
        }
        std::string t = "{\n  \"format_version\": " + format_version + ",\n  \"data_ref\": " + data_ref +
                        ",\n  \"dim\": " + dim + ",\n  \"rotation_seed\": " + rotation_seed +
                        ",\n  \"rerank_factor\": " + rerank_factor + ",\n  \"generation\": " + generation +
                        ",\n  \"rvf_witness\": " + w + ",\n  \"pii_policy\": " + pii_policy +
                        ",\n  \"lineage_id\": " + lineage_id;
        if (memory_class) t += ",\n  \"memory_class\": " + *memory_class;
        return t + extra + "\n}\n";
    }
};

std::string json_string(const std::string& s) { return "\"" + s + "\""; }

// A text sidecar whose witness matches fields.
std::string valid_text(const rc::WitnessFields& fields) {
    return rc::serialize_bundle_json(rc::make_bundle(fields));
}

}  // namespace

TEST(Bundle, ReadsTheReferenceSidecar) {
    rc::Bundle b = rc::read_bundle_file(rt::reference_file("table.rulake.json").string());
    EXPECT_EQ(b.fields.data_ref, "file:///srv/rulake/sample.ruvec1");
    EXPECT_EQ(b.fields.dim, 8u);
    EXPECT_EQ(b.fields.rotation_seed, 42u);
    EXPECT_EQ(b.fields.rerank_factor, 20u);
    EXPECT_EQ(b.fields.generation, rc::Generation::number(1700000000));
    EXPECT_EQ(b.rvf_witness, kReferenceWitness);
    EXPECT_FALSE(b.pii_policy);
    EXPECT_FALSE(b.lineage_id);
    EXPECT_FALSE(b.memory_class);
}

TEST(Bundle, SerializingTheReferenceReproducesItByteForByte) {
    const std::string original = rt::read_whole_file(rt::reference_file("table.rulake.json"));
    ASSERT_FALSE(original.empty());
    EXPECT_EQ(original.back(), '\n');  // the reference ends with a newline, and so do we
    EXPECT_EQ(rc::serialize_bundle_json(rc::parse_bundle_json(original)), original);
    // make_bundle from the bare fields gives the same text.
    rc::Bundle fresh = rc::make_bundle({"file:///srv/rulake/sample.ruvec1", 8, 42, 20, rc::Generation::number(1700000000)});
    EXPECT_EQ(rc::serialize_bundle_json(fresh), original);
}

TEST(Bundle, RejectsTheTamperedReferenceNamingBothWitnesses) {
    const std::string path = rt::reference_file("tampered.table.rulake.json").string();
    const std::string expected =
        rc::compute_witness({"file:///srv/rulake/sample.ruvec1", 9, 42, 20, rc::Generation::number(1700000000)});
    Thrown t = thrown_by([&] { rc::read_bundle_file(path); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::Corrupted));
    EXPECT_EQ(t.message, "bundle witness mismatch: expected " + expected + ", found " + kReferenceWitness);
    EXPECT_NE(t.detail.find(path), std::string::npos) << t.detail;
}

TEST(Bundle, RepositoryFixturesMatchTheReference) {
    // test/fixtures holds copies of the reference sidecars for the SQL tests; they must stay identical.
    for (const char* name : {"table.rulake.json", "tampered.table.rulake.json"}) {
        EXPECT_EQ(rt::read_whole_file(rt::repo_fixture(name)), rt::read_whole_file(rt::reference_file(name))) << name;
    }
    // The fixture with every field set and a u64-max seed (witness computed independently) parses and
    // serializes back to the same bytes.
    const std::string text = rt::read_whole_file(rt::repo_fixture("maxseed.table.rulake.json"));
    rc::Bundle b = rc::parse_bundle_json(text);
    EXPECT_EQ(b.fields.rotation_seed, UINT64_MAX);
    EXPECT_EQ(b.fields.generation, rc::Generation::opaque("01JCX7NK6G5R9G1YZ7QH"));
    EXPECT_EQ(b.memory_class, std::optional<std::string>("hot"));
    EXPECT_EQ(rc::serialize_bundle_json(b), text);
}

TEST(Bundle, RoundTripWithEveryField) {
    rc::WitnessFields f{"iceberg://catalog/db/t\u00e9ble \"quoted\" \\ tab\t nl\n", 384, 3735928559u, 5,
                        rc::Generation::opaque("01JCX7NK6G5R9G1YZ7QH")};
    rc::Bundle b = rc::make_bundle(f, std::string("pii: none"), std::string("lineage-1"), std::string("hot"));
    const std::string text = rc::serialize_bundle_json(b);
    EXPECT_EQ(rc::parse_bundle_json(text), b);
    EXPECT_NE(text.find("\"memory_class\": \"hot\"\n}"), std::string::npos) << text;
    EXPECT_NE(text.find("\"generation\": \"01JCX7NK6G5R9G1YZ7QH\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"pii_policy\": \"pii: none\""), std::string::npos) << text;
    // Control characters are escaped, non-ASCII is kept as UTF-8.
    EXPECT_NE(text.find("\\t nl\\n"), std::string::npos) << text;
    EXPECT_NE(text.find("t\u00e9ble"), std::string::npos) << text;
}

TEST(Bundle, AbsentOptionalFields) {
    rc::Bundle b = rc::make_bundle({"local://svc/c", 2, 42, 20, rc::Generation::number(1)});
    const std::string text = rc::serialize_bundle_json(b);
    EXPECT_EQ(text.find("memory_class"), std::string::npos) << text;
    EXPECT_NE(text.find("\"pii_policy\": null,\n  \"lineage_id\": null\n}\n"), std::string::npos) << text;
    // Readers accept the optional fields missing entirely, or memory_class as null.
    RawSidecar raw;
    std::string no_optionals = raw.text();
    no_optionals.erase(no_optionals.find(",\n  \"pii_policy\""), std::string(",\n  \"pii_policy\": null,\n  \"lineage_id\": null").size());
    rc::Bundle parsed = rc::parse_bundle_json(no_optionals);
    EXPECT_FALSE(parsed.pii_policy);
    EXPECT_FALSE(parsed.lineage_id);
    raw.memory_class = "null";
    EXPECT_FALSE(rc::parse_bundle_json(raw.text()).memory_class);
}

TEST(Bundle, FieldOrderIsTheReferenceOrder) {
    rc::Bundle b = rc::make_bundle({"d", 1, 2, 3, rc::Generation::number(4)}, std::string("p"), std::string("l"), std::string("m"));
    const std::string text = rc::serialize_bundle_json(b);
    size_t last = 0;
    for (const char* key : {"format_version", "data_ref", "dim", "rotation_seed", "rerank_factor", "generation",
                            "rvf_witness", "pii_policy", "lineage_id", "memory_class"}) {
        size_t at = text.find(std::string("\n  \"") + key + "\": ");
        ASSERT_NE(at, std::string::npos) << key;
        EXPECT_GT(at + 1, last) << key;
        last = at + 1;
    }
}

TEST(Bundle, U64MaxSeedStaysExact) {
    rc::WitnessFields f{"x", 1, UINT64_MAX, UINT64_MAX, rc::Generation::number(UINT64_MAX)};
    const std::string text = valid_text(f);
    EXPECT_NE(text.find("\"rotation_seed\": 18446744073709551615,"), std::string::npos) << text;
    rc::Bundle b = rc::parse_bundle_json(text);
    EXPECT_EQ(b.fields.rotation_seed, UINT64_MAX);
    EXPECT_EQ(b.fields.generation.number_value(), UINT64_MAX);
    // 2^53 + 1 would be rounded by a double.
    f.rotation_seed = (uint64_t{1} << 53) + 1;
    EXPECT_EQ(rc::parse_bundle_json(valid_text(f)).fields.rotation_seed, (uint64_t{1} << 53) + 1);

    RawSidecar raw;
    raw.rotation_seed = "18446744073709551616";
    EXPECT_BUNDLE_ERROR(raw.text(), OutOfRange, "field \"rotation_seed\" is out of range");
}

TEST(Bundle, GenerationKinds) {
    RawSidecar raw;
    raw.generation = "\"7\"";
    raw.rvf_witness = json_string(rc::compute_witness({"file:///srv/v.ruvec1", 8, 42, 20, rc::Generation::opaque("7")}));
    EXPECT_EQ(rc::parse_bundle_json(raw.text()).fields.generation, rc::Generation::opaque("7"));
    // The same text with the numeric witness is a mismatch: "7" is not 7.
    raw.rvf_witness = json_string(rc::compute_witness({"file:///srv/v.ruvec1", 8, 42, 20, rc::Generation::number(7)}));
    EXPECT_BUNDLE_ERROR(raw.text(), Corrupted, "bundle witness mismatch");

    RawSidecar bad;
    bad.generation = "-1";
    EXPECT_BUNDLE_ERROR(bad.text(), OutOfRange, "field \"generation\" must not be negative");
    bad.generation = "7.5";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "field \"generation\" must be an integer without a fraction or exponent");
    bad.generation = "7.0";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "must be an integer");
    bad.generation = "1e3";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "must be an integer");
    bad.generation = "-0.5";
    EXPECT_BUNDLE_ERROR(bad.text(), OutOfRange, "must not be negative");
    bad.generation = "true";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "field \"generation\" must be a number or a string, not boolean");
    bad.generation = "null";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "must be a number or a string, not null");
    bad.generation = "[7]";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "not array");
    bad.generation = "{}";
    EXPECT_BUNDLE_ERROR(bad.text(), InvalidText, "not object");
}

TEST(Bundle, NegativeZeroIsZero) {
    RawSidecar raw;
    raw.generation = "-0";
    raw.rvf_witness = json_string(rc::compute_witness({"file:///srv/v.ruvec1", 8, 42, 20, rc::Generation::number(0)}));
    EXPECT_EQ(rc::parse_bundle_json(raw.text()).fields.generation, rc::Generation::number(0));
}

TEST(Bundle, WrongTypes) {
    {
        RawSidecar r;
        r.dim = "\"8\"";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "invalid bundle sidecar: field \"dim\" must be a number, not string");
    }
    {
        RawSidecar r;
        r.dim = "-8";
        EXPECT_BUNDLE_ERROR(r.text(), OutOfRange, "field \"dim\" must not be negative");
    }
    {
        RawSidecar r;
        r.dim = "8.5";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"dim\" must be an integer");
    }
    {
        RawSidecar r;
        r.rerank_factor = "null";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"rerank_factor\" must be a number, not null");
    }
    {
        RawSidecar r;
        r.data_ref = "42";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"data_ref\" must be a string, not number");
    }
    {
        RawSidecar r;
        r.rvf_witness = "42";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"rvf_witness\" must be a string");
    }
    {
        RawSidecar r;
        r.pii_policy = "1";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"pii_policy\" must be a string or null, not number");
    }
    {
        RawSidecar r;
        r.lineage_id = "[]";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"lineage_id\" must be a string or null, not array");
    }
    {
        RawSidecar r;
        r.memory_class = "false";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"memory_class\" must be a string or null, not boolean");
    }
    {
        RawSidecar r;
        r.rvf_witness = json_string(std::string(kReferenceWitness).substr(0, 63) + "A");
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"rvf_witness\" must be 64 lowercase hex characters");
    }
    {
        RawSidecar r;
        r.rvf_witness = "\"\"";
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "must be 64 lowercase hex characters");
    }
}

TEST(Bundle, FormatVersion) {
    RawSidecar r;
    r.format_version = "3";
    EXPECT_BUNDLE_ERROR(r.text(), NotSupported, "unsupported bundle format_version 3");
    r.format_version = "1";
    EXPECT_BUNDLE_ERROR(r.text(), NotSupported, "unsupported bundle format_version 1");
    r.format_version = "\"2\"";
    EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "field \"format_version\" must be a number");
}

TEST(Bundle, MissingFields) {
    const std::string full = RawSidecar().text();
    for (const char* field : {"format_version", "data_ref", "dim", "rotation_seed", "rerank_factor", "generation", "rvf_witness"}) {
        SCOPED_TRACE(field);
        // Drop the line "  "<field>": ...," from the text.
        std::string text = full;
        size_t at = text.find(std::string("  \"") + field + "\"");
        ASSERT_NE(at, std::string::npos);
        text.erase(at, text.find('\n', at) + 1 - at);
        EXPECT_BUNDLE_ERROR(text, InvalidText, std::string("missing field \"") + field + "\"");
    }
}

TEST(Bundle, BadJson) {
    EXPECT_BUNDLE_ERROR("", InvalidText, "invalid bundle sidecar: parse error");
    EXPECT_BUNDLE_ERROR("{", InvalidText, "parse error");
    EXPECT_BUNDLE_ERROR("{\"dim\": 8,}", InvalidText, "parse error");
    EXPECT_BUNDLE_ERROR(RawSidecar().text() + "x", InvalidText, "parse error");
    EXPECT_BUNDLE_ERROR("\"\\ud800\"", InvalidText, "parse error");
    EXPECT_BUNDLE_ERROR(std::string("{\"data_ref\": \"\xff\"}"), InvalidText, "parse error");
    EXPECT_BUNDLE_ERROR("[]", InvalidText, "the document must be a JSON object, not array");
    EXPECT_BUNDLE_ERROR("42", InvalidText, "must be a JSON object, not number");
    EXPECT_BUNDLE_ERROR("{}", InvalidText, "missing field \"format_version\"");
    // A repeated field is ambiguous: rejected rather than silently taking one of the values.
    RawSidecar r;
    r.extra = ",\n  \"dim\": 9";
    EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "duplicate field \"dim\"");
    // Error messages do not carry the JSON library's internal tag.
    Thrown t = thrown_by([] { rc::parse_bundle_json("{"); });
    EXPECT_EQ(t.message.find("[json.exception"), std::string::npos) << t.message;
}

TEST(Bundle, UnknownFieldsAreIgnored) {
    RawSidecar r;
    r.extra = ",\n  \"future_field\": {\"a\": [1, 2, 3]}";
    EXPECT_EQ(rc::parse_bundle_json(r.text()).fields.dim, 8u);
}

TEST(Bundle, PayloadFieldsRoundTripAfterTheReferenceFields) {
    rc::Bundle b = rc::make_bundle({"local://svc/c", 2, 42, 20, rc::Generation::number(1)}, std::nullopt, std::nullopt,
                                   std::string("hot"));
    b.payload = rc::BundlePayload{"cache-0123456789abcdef.rbpx", 4096, std::string(64, 'a')};
    const std::string text = rc::serialize_bundle_json(b);
    EXPECT_NE(text.find("\"memory_class\": \"hot\",\n  \"payload_file\": \"cache-0123456789abcdef.rbpx\",\n"
                        "  \"payload_bytes\": 4096,\n  \"payload_shake256\": \"" + std::string(64, 'a') + "\"\n}\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(rc::parse_bundle_json(text), b);
    // Not part of the witness: the reference computes the same witness without them.
    EXPECT_EQ(rc::parse_bundle_json(text).rvf_witness, rc::make_bundle(b.fields).rvf_witness);
}

TEST(Bundle, PayloadFieldsAreCheckedWhenPresent) {
    const std::string digest = "\"" + std::string(64, 'b') + "\"";
    auto with = [](const std::string& fields) {
        RawSidecar r;
        r.extra = fields;
        return r.text();
    };
    EXPECT_FALSE(rc::parse_bundle_json(with("")).payload);
    const rc::Bundle ok = rc::parse_bundle_json(
        with(",\n  \"payload_file\": \"a.rbpx\", \"payload_bytes\": 40, \"payload_shake256\": " + digest));
    ASSERT_TRUE(ok.payload);
    EXPECT_EQ(ok.payload->file, "a.rbpx");
    EXPECT_EQ(ok.payload->bytes, 40u);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {",\n  \"payload_file\": \"a.rbpx\"", "come together"},
        {",\n  \"payload_bytes\": 40, \"payload_shake256\": " + digest, "come together"},
        {",\n  \"payload_file\": \"../a.rbpx\", \"payload_bytes\": 40, \"payload_shake256\": " + digest,
         "not a valid file name"},
        {",\n  \"payload_file\": \"table.rulake.json\", \"payload_bytes\": 40, \"payload_shake256\": " + digest,
         "names the sidecar itself"},
        {",\n  \"payload_file\": \"a.rbpx\", \"payload_bytes\": 40, \"payload_shake256\": \"ABC\"",
         "64 lowercase hex"},
        {",\n  \"payload_file\": 7, \"payload_bytes\": 40, \"payload_shake256\": " + digest, "must be a string"},
        {",\n  \"payload_file\": \"a.rbpx\", \"payload_bytes\": -1, \"payload_shake256\": " + digest,
         "must not be negative"},
    };
    for (const auto& [fields, problem] : bad) {
        const Thrown t = thrown_by([&] { rc::parse_bundle_json(with(fields)); });
        EXPECT_NE(t.message.find(problem), std::string::npos) << fields << " -> " << t.message;
    }
    RawSidecar long_name;
    long_name.extra = ",\n  \"payload_file\": \"" + std::string(300, 'n') + "\"";
    EXPECT_EQ(static_cast<int>(thrown_by([&] { rc::parse_bundle_json(long_name.text()); }).kind),
              static_cast<int>(rc::ErrorKind::Limit));
    // Writers refuse what readers would.
    rc::Bundle b = rc::make_bundle({"x", 1, 2, 3, rc::Generation::number(4)});
    b.payload = rc::BundlePayload{"a/b.rbpx", 1, std::string(64, 'c')};
    EXPECT_EQ(static_cast<int>(thrown_by([&] { rc::serialize_bundle_json(b); }).kind),
              static_cast<int>(rc::ErrorKind::InvalidArgument));
}

TEST(Bundle, DeepNestingIsHandledWithoutRecursion) {
    RawSidecar r;
    r.extra = ",\n  \"deep\": " + std::string(30000, '[') + std::string(30000, ']');
    ASSERT_LE(r.text().size(), rc::kMaxBundleFileBytes);
    EXPECT_EQ(rc::parse_bundle_json(r.text()).fields.dim, 8u);
}

TEST(Bundle, FileSizeCap) {
    // Padding with whitespace keeps the JSON valid: exactly 64 KiB is accepted, one byte more is not.
    std::string text = RawSidecar().text();
    text.append(rc::kMaxBundleFileBytes - text.size(), ' ');
    ASSERT_EQ(text.size(), rc::kMaxBundleFileBytes);
    EXPECT_EQ(rc::parse_bundle_json(text).fields.dim, 8u);
    text.push_back(' ');
    EXPECT_BUNDLE_ERROR(text, Limit, "too large: 65537 bytes (limit 65536)");

    // From a file, the size is checked before reading.
    rt::ScratchDir dir;
    rt::write_whole_file(dir / "big.json", text);
    Thrown t = thrown_by([&] { rc::read_bundle_file((dir / "big.json").string()); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::Limit));
    EXPECT_NE(t.message.find("too large: 65537 bytes"), std::string::npos) << t.message;
}

TEST(Bundle, TextFieldCaps) {
    const std::string at_cap(rc::kMaxBundleTextFieldBytes, 'a');
    const std::string over_cap(rc::kMaxBundleTextFieldBytes + 1, 'a');
    // data_ref: the witness covers it, so build valid sidecars through make_bundle for the at-cap case.
    EXPECT_EQ(rc::parse_bundle_json(valid_text({at_cap, 1, 2, 3, rc::Generation::number(4)})).fields.data_ref, at_cap);
    {
        RawSidecar r;
        r.data_ref = json_string(over_cap);
        r.dim = "\"not even a number\"";  // the cap is reported before any other problem
        EXPECT_BUNDLE_ERROR(r.text(), Limit, "field \"data_ref\" is too long: 4097 bytes (limit 4096)");
    }
    // The cap counts decoded bytes: 2048 two-byte characters are 4096 bytes.
    std::string two_byte;
    for (size_t i = 0; i < rc::kMaxBundleTextFieldBytes / 2; ++i) two_byte += "\u00e9";
    EXPECT_EQ(rc::parse_bundle_json(valid_text({two_byte, 1, 2, 3, rc::Generation::number(4)})).fields.data_ref, two_byte);
    for (const char* field : {"pii_policy", "lineage_id", "memory_class"}) {
        SCOPED_TRACE(field);
        RawSidecar ok, bad;
        std::string RawSidecar::*member = std::string(field) == "pii_policy" ? &RawSidecar::pii_policy : &RawSidecar::lineage_id;
        if (std::string(field) == "memory_class") {
            ok.memory_class = json_string(at_cap);
            bad.memory_class = json_string(over_cap);
        } else {
            ok.*member = json_string(at_cap);
            bad.*member = json_string(over_cap);
        }
        EXPECT_NO_THROW(rc::parse_bundle_json(ok.text()));
        EXPECT_BUNDLE_ERROR(bad.text(), Limit, std::string("field \"") + field + "\" is too long: 4097 bytes (limit 4096)");
    }
    {
        RawSidecar r;
        r.rvf_witness = json_string(std::string(rc::kMaxBundleWitnessChars + 1, 'a'));
        EXPECT_BUNDLE_ERROR(r.text(), Limit, "field \"rvf_witness\" is too long: 129 bytes (limit 128)");
        r.rvf_witness = json_string(std::string(rc::kMaxBundleWitnessChars, 'a'));
        EXPECT_BUNDLE_ERROR(r.text(), InvalidText, "must be 64 lowercase hex characters");
    }
    // Writers refuse what readers would reject.
    EXPECT_EQ(static_cast<int>(thrown_by([&] { rc::make_bundle({over_cap, 1, 2, 3, rc::Generation::number(4)}); }).kind),
              static_cast<int>(rc::ErrorKind::Limit));
    EXPECT_EQ(static_cast<int>(thrown_by([&] {
                  rc::make_bundle({"x", 1, 2, 3, rc::Generation::number(4)}, std::nullopt, std::nullopt, over_cap);
              }).kind),
              static_cast<int>(rc::ErrorKind::Limit));
}

TEST(Bundle, WritersRejectWhatJsonCannotHold) {
    Thrown t = thrown_by([] { rc::make_bundle({"bad \xff utf8", 1, 2, 3, rc::Generation::number(4)}); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_NE(t.message.find("\"data_ref\" is not valid UTF-8"), std::string::npos) << t.message;
    t = thrown_by([] { rc::make_bundle({"x", 1, 2, 3, rc::Generation::opaque(std::string("\x07\0\0\0\0\0\0\xfe", 8))}); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::InvalidArgument));
    // A bundle whose witness was altered after make_bundle() is not written.
    rc::Bundle b = rc::make_bundle({"x", 1, 2, 3, rc::Generation::number(4)});
    b.fields.dim = 2;
    EXPECT_EQ(static_cast<int>(thrown_by([&] { rc::serialize_bundle_json(b); }).kind),
              static_cast<int>(rc::ErrorKind::Internal));
}

TEST(Bundle, ParseGenerationJson) {
    EXPECT_EQ(rc::parse_generation_json("7"), rc::Generation::number(7));
    EXPECT_EQ(rc::parse_generation_json(" 18446744073709551615 "), rc::Generation::number(UINT64_MAX));
    EXPECT_EQ(rc::parse_generation_json("\"7\""), rc::Generation::opaque("7"));
    EXPECT_EQ(rc::parse_generation_json("\"01JCX7NK6G5R9G1YZ7QH\""), rc::Generation::opaque("01JCX7NK6G5R9G1YZ7QH"));
    auto kind_of = [](const char* text) { return static_cast<int>(thrown_by([&] { rc::parse_generation_json(text); }).kind); };
    EXPECT_EQ(kind_of("18446744073709551616"), static_cast<int>(rc::ErrorKind::OutOfRange));
    EXPECT_EQ(kind_of("-1"), static_cast<int>(rc::ErrorKind::OutOfRange));
    EXPECT_EQ(kind_of("7.5"), static_cast<int>(rc::ErrorKind::InvalidText));
    EXPECT_EQ(kind_of("true"), static_cast<int>(rc::ErrorKind::InvalidText));
    EXPECT_EQ(kind_of("null"), static_cast<int>(rc::ErrorKind::InvalidText));
    EXPECT_EQ(kind_of("{}"), static_cast<int>(rc::ErrorKind::InvalidText));
    EXPECT_EQ(kind_of(""), static_cast<int>(rc::ErrorKind::InvalidText));
    EXPECT_EQ(thrown_by([] { rc::parse_generation_json("-3"); }).message, "generation must not be negative");
    EXPECT_EQ(thrown_by([] { rc::parse_generation_json("[1]"); }).message, "generation must be a number or a string, not array");
}

TEST(Bundle, Utf8Validation) {
    EXPECT_TRUE(rc::is_valid_utf8(""));
    EXPECT_TRUE(rc::is_valid_utf8("plain"));
    EXPECT_TRUE(rc::is_valid_utf8("\u00e9\u20ac\U0001F600"));
    EXPECT_FALSE(rc::is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(rc::is_valid_utf8("\xe0\x80\xaf"));      // overlong
    EXPECT_FALSE(rc::is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(rc::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(rc::is_valid_utf8("\xe2\x82"));          // truncated
    EXPECT_FALSE(rc::is_valid_utf8("\x80"));              // stray continuation
}

TEST(BundleFile, WriteThenReadAndNoTemporaryLeft) {
    rt::ScratchDir dir;
    const std::string path = (dir / std::string(rc::kBundleFileName)).string();
    rc::Bundle first = rc::make_bundle({"file:///srv/a.ruvec1", 8, 42, 20, rc::Generation::number(1)});
    rc::write_bundle_file(path, first);
    EXPECT_EQ(rc::read_bundle_file(path), first);
    // Replacing an existing sidecar.
    rc::Bundle second = rc::make_bundle({"file:///srv/a.ruvec1", 8, 42, 20, rc::Generation::number(2)}, std::string("p"));
    rc::write_bundle_file(path, second);
    EXPECT_EQ(rc::read_bundle_file(path), second);
    EXPECT_EQ(rt::read_whole_file(path), rc::serialize_bundle_json(second));
    size_t entries = 0;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        ++entries;
        EXPECT_EQ(entry.path().filename().string(), rc::kBundleFileName);
    }
    EXPECT_EQ(entries, 1u);
}

TEST(BundleFile, StrayTemporaryFilesAreIgnored) {
    rt::ScratchDir dir;
    const std::string path = (dir / std::string(rc::kBundleFileName)).string();
    rc::Bundle b = rc::make_bundle({"file:///srv/a.ruvec1", 8, 42, 20, rc::Generation::number(1)});
    rc::write_bundle_file(path, b);
    // A crash during an earlier write left a half-written temporary file behind.
    const std::string stray = ".table.rulake.json.tmp.12345.0123456789abcdef";
    EXPECT_TRUE(rc::is_temporary_file_name(stray));
    rt::write_whole_file(dir / stray, "{ \"format_version\": 2, \"data_r");
    EXPECT_EQ(rc::read_bundle_file(path), b);
    rc::write_bundle_file(path, b);  // writing again is not disturbed either
    EXPECT_EQ(rc::read_bundle_file(path), b);
}

TEST(BundleFile, MissingFileAndDirectory) {
    rt::ScratchDir dir;
    const std::string missing = (dir / "nope.json").string();
    EXPECT_FALSE(rc::read_bundle_file_if_exists(missing));
    Thrown t = thrown_by([&] { rc::read_bundle_file(missing); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::Io));
    EXPECT_EQ(t.message, "could not open bundle file \"" + missing + "\": No such file or directory");
    t = thrown_by([&] { rc::read_bundle_file(dir.path().string()); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_NE(t.message.find("is not a regular file"), std::string::npos) << t.message;
    // A FIFO is refused without waiting for a writer.
    const std::string fifo = (dir / "fifo").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    t = thrown_by([&] { rc::read_bundle_file(fifo); });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_NE(t.message.find("is not a regular file"), std::string::npos) << t.message;
    // Writing into a directory that does not exist fails cleanly.
    t = thrown_by([&] {
        rc::write_bundle_file((dir / "no-such-dir" / "table.rulake.json").string(),
                              rc::make_bundle({"x", 1, 2, 3, rc::Generation::number(4)}));
    });
    EXPECT_EQ(static_cast<int>(t.kind), static_cast<int>(rc::ErrorKind::Io));
    EXPECT_NE(t.message.find("could not open directory"), std::string::npos) << t.message;
}

TEST(AtomicFile, UncommittedWriterLeavesNothing) {
    rt::ScratchDir dir;
    const std::string target = (dir / "out.bin").string();
    std::string temp;
    {
        rc::AtomicFileWriter w(target, "test file");
        temp = w.temp_path();
        EXPECT_TRUE(fs::exists(temp));
        EXPECT_TRUE(rc::is_temporary_file_name(fs::path(temp).filename().string())) << temp;
        EXPECT_EQ(fs::path(temp).parent_path(), dir.path());
        w.write("partial");
    }
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(target));
}

TEST(AtomicFile, LargeWritesAndOverwrite) {
    rt::ScratchDir dir;
    const std::string target = (dir / "out.bin").string();
    std::string expected;
    {
        rc::AtomicFileWriter w(target, "test file");
        w.write("HEADER--");
        expected = "HEADER--";
        for (int i = 0; i < 1000; ++i) {
            std::string chunk(97 + i % 13, static_cast<char>('a' + i % 26));
            w.write(chunk);
            expected += chunk;
        }
        std::string big(200000, 'Z');
        w.write(big);
        expected += big;
        EXPECT_EQ(w.size(), expected.size());
        w.overwrite_at(0, "header", 6);
        expected.replace(0, 6, "header");
        EXPECT_THROW(w.overwrite_at(expected.size() - 2, "xyz", 3), rc::Error);
        w.commit();
        EXPECT_THROW(w.write("more"), rc::Error);
    }
    EXPECT_EQ(rt::read_whole_file(target), expected);
}

TEST(AtomicFile, TemporaryNameRecognition) {
    EXPECT_TRUE(rc::is_temporary_file_name(".table.rulake.json.tmp.1.0123456789abcdef"));
    EXPECT_FALSE(rc::is_temporary_file_name("table.rulake.json"));
    EXPECT_FALSE(rc::is_temporary_file_name(".table.rulake.json.tmp.1.0123456789ABCDEF"));
    EXPECT_FALSE(rc::is_temporary_file_name(".table.rulake.json.tmp.x.0123456789abcdef"));
    EXPECT_FALSE(rc::is_temporary_file_name(".table.rulake.json.tmp.1.0123456789abcde"));
    EXPECT_FALSE(rc::is_temporary_file_name("table.rulake.json.tmp.1.0123456789abcdef"));
    // A long target name still gives a temporary name within NAME_MAX.
    rt::ScratchDir dir;
    rc::AtomicFileWriter w((dir / std::string(255, 'n')).string(), "test file");
    EXPECT_LE(fs::path(w.temp_path()).filename().string().size(), 255u);
    EXPECT_TRUE(rc::is_temporary_file_name(fs::path(w.temp_path()).filename().string()));
}
