// The bundle witness against the reference test vectors (../shared/reference/witness-vectors.tsv).
#include "rulake/core/witness.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "lake_test_support.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/shake256.hpp"

namespace rc = rulake::core;

namespace {

struct Vector {
    rc::WitnessFields fields;
    size_t message_len;
    std::string witness;
};

std::string from_hex(const std::string& hex) {
    if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length: " + hex);
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

uint64_t u64_from_le(const std::string& bytes) {
    if (bytes.size() != 8) throw std::runtime_error("numeric generation is not 8 bytes");
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
    return v;
}

// Parses witness-vectors.tsv: a header line, then one tab-separated vector per line.
std::vector<Vector> load_vectors() {
    std::istringstream tsv(rulake::test::read_whole_file(rulake::test::reference_file("witness-vectors.tsv")));
    std::string line;
    std::getline(tsv, line);
    EXPECT_EQ(line, "data_ref\tdim\tseed\trerank_factor\tgeneration_kind\tgeneration_hex\tmessage_len\twitness");
    std::vector<Vector> vectors;
    while (std::getline(tsv, line)) {
        if (line.empty()) continue;
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t')) cols.push_back(col);
        if (cols.size() != 8) throw std::runtime_error("bad TSV line: " + line);
        Vector v;
        v.fields.data_ref = cols[0];
        v.fields.dim = std::stoull(cols[1]);
        v.fields.rotation_seed = std::stoull(cols[2]);
        v.fields.rerank_factor = std::stoull(cols[3]);
        std::string payload = from_hex(cols[5]);
        if (cols[4] == "num") {
            v.fields.generation = rc::Generation::number(u64_from_le(payload));
        } else if (cols[4] == "string") {
            v.fields.generation = rc::Generation::opaque(payload);
        } else {
            throw std::runtime_error("unknown generation kind " + cols[4]);
        }
        v.message_len = std::stoull(cols[6]);
        v.witness = cols[7];
        vectors.push_back(v);
    }
    return vectors;
}

}  // namespace

TEST(Witness, ReferenceVectors) {
    std::vector<Vector> vectors = load_vectors();
    ASSERT_EQ(vectors.size(), 5u);
    for (const Vector& v : vectors) {
        SCOPED_TRACE(v.fields.data_ref);
        EXPECT_EQ(rc::witness_message(v.fields).size(), v.message_len);
        EXPECT_EQ(rc::compute_witness(v.fields), v.witness);
        EXPECT_TRUE(rc::is_witness_text(v.witness));
    }
}

TEST(Witness, ReferenceVectorsSpelledOut) {
    // The same vectors as the README's table, independent of the TSV parser above.
    rc::WitnessFields a{"gs://bucket/x.parquet", 128, 42, 20, rc::Generation::number(7)};
    EXPECT_EQ(rc::compute_witness(a), "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd");
    rc::WitnessFields b{"x", 1, 0, 1, rc::Generation::number(7)};
    EXPECT_EQ(rc::compute_witness(b), "1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b");
    rc::WitnessFields c{"x", 1, 0, 1, rc::Generation::opaque(std::string("\x07\0\0\0\0\0\0\0", 8))};
    EXPECT_EQ(rc::compute_witness(c), "a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc");
    rc::WitnessFields d{"iceberg://catalog/db/table", 384, 3735928559u, 5, rc::Generation::opaque("01JCX7NK6G5R9G1YZ7QH")};
    EXPECT_EQ(rc::compute_witness(d), "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b");
    rc::WitnessFields e{"local://svc/c", 2, 42, 20, rc::Generation::number(1)};
    EXPECT_EQ(rc::compute_witness(e), "5d1ad6d44c88e139f04d2b26b421d2f4789e5acf44ccab6eefc21a18e43858dd");
}

TEST(Witness, MessageLayout) {
    rc::WitnessFields f{"ab", 0x0102, 3, 4, rc::Generation::number(5)};
    std::string expected = "rulake-bundle-witness-v1|";
    expected += std::string("\x02\0\0\0\0\0\0\0", 8) + "ab|";
    expected += std::string("\x02\x01\0\0\0\0\0\0", 8) + std::string("\x03\0\0\0\0\0\0\0", 8) +
                std::string("\x04\0\0\0\0\0\0\0", 8) + "|";
    expected += std::string("\x09\0\0\0\0\0\0\0", 8) + std::string("\x00\x05\0\0\0\0\0\0\0", 9);
    EXPECT_EQ(rc::witness_message(f), expected);

    f.generation = rc::Generation::opaque("");
    EXPECT_EQ(rc::witness_message(f).substr(expected.size() - 17), std::string("\x01\0\0\0\0\0\0\0\x01", 9));
}

TEST(Witness, EveryFieldChangesTheWitness) {
    const rc::WitnessFields base{"file:///srv/v.ruvec1", 8, 42, 20, rc::Generation::number(1700000000)};
    const std::string w = rc::compute_witness(base);
    auto differs = [&](rc::WitnessFields f) { return rc::compute_witness(f) != w; };
    rc::WitnessFields f = base;
    f.data_ref += "x";
    EXPECT_TRUE(differs(f));
    f = base;
    f.dim = 9;
    EXPECT_TRUE(differs(f));
    f = base;
    f.rotation_seed = UINT64_MAX;
    EXPECT_TRUE(differs(f));
    f = base;
    f.rerank_factor = 21;
    EXPECT_TRUE(differs(f));
    f = base;
    f.generation = rc::Generation::opaque("1700000000");
    EXPECT_TRUE(differs(f));
    EXPECT_EQ(rc::compute_witness(base), w);  // deterministic
}

TEST(Witness, GenerationKindsAreDistinct) {
    EXPECT_NE(rc::Generation::number(7), rc::Generation::opaque("7"));
    EXPECT_EQ(rc::Generation::number(7), rc::Generation::number(7));
    EXPECT_TRUE(rc::Generation::number(7).is_number());
    EXPECT_FALSE(rc::Generation::opaque("7").is_number());
    EXPECT_EQ(rc::Generation::opaque("7").opaque_value(), "7");
    EXPECT_EQ(rc::Generation::number(UINT64_MAX).number_value(), UINT64_MAX);
}

TEST(Witness, IsWitnessText) {
    EXPECT_TRUE(rc::is_witness_text(std::string(64, 'a')));
    EXPECT_FALSE(rc::is_witness_text(std::string(63, 'a')));
    EXPECT_FALSE(rc::is_witness_text(std::string(65, 'a')));
    EXPECT_FALSE(rc::is_witness_text(std::string(64, 'A')));
    EXPECT_FALSE(rc::is_witness_text(std::string(64, 'g')));
    EXPECT_FALSE(rc::is_witness_text(""));
}

TEST(Shake256, KnownAnswers) {
    // FIPS 202 SHAKE256 of the empty message, first 32 bytes.
    EXPECT_EQ(rc::to_hex(rc::shake256("", 32)), "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
    // Output is a prefix-consistent stream.
    EXPECT_EQ(rc::shake256("abc", 64).substr(0, 32), rc::shake256("abc", 32));
    // Incremental updates equal one update.
    rc::Shake256 h;
    h.update("a");
    h.update("bc");
    std::string out(32, '\0');
    h.finish(out.data(), out.size());
    EXPECT_EQ(out, rc::shake256("abc", 32));
    EXPECT_THROW(h.finish(out.data(), out.size()), rc::Error);
    EXPECT_THROW(h.update("x"), rc::Error);
}
