// File name validation and directory containment.
#include "rulake/core/file_names.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "lake_test_support.hpp"
#include "rulake/core/error.hpp"

namespace rc = rulake::core;
namespace rt = rulake::test;
namespace fs = std::filesystem;

TEST(FileNames, AcceptsOrdinaryNames) {
    for (const char* name : {"v.ruvec1", "table.rulake.json", "a", "...", ".hidden", "with space", "caf\xc3\xa9", "x~-_+=,;"}) {
        EXPECT_EQ(rc::file_name_problem(name), "") << name;
        EXPECT_NO_THROW(rc::validate_file_name(name)) << name;
    }
    EXPECT_EQ(rc::file_name_problem(std::string(255, 'a')), "");
}

TEST(FileNames, RejectsEmptyAndLong) {
    EXPECT_EQ(rc::file_name_problem(""), "it is empty");
    EXPECT_EQ(rc::file_name_problem(std::string(256, 'a')), "it is 256 bytes long, more than 255");
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    std::string wide;
    for (int i = 0; i < 128; ++i) wide += "\xc3\xa9";
    EXPECT_NE(rc::file_name_problem(wide), "");
}

TEST(FileNames, RejectsDotNames) {
    EXPECT_EQ(rc::file_name_problem("."), "it refers to a directory");
    EXPECT_EQ(rc::file_name_problem(".."), "it refers to a directory");
}

TEST(FileNames, RejectsSeparators) {
    EXPECT_EQ(rc::file_name_problem("a/b"), "it contains the separator '/'");
    EXPECT_EQ(rc::file_name_problem("../etc/passwd"), "it contains the separator '/'");
    EXPECT_EQ(rc::file_name_problem("/abs"), "it contains the separator '/'");
    EXPECT_EQ(rc::file_name_problem("a\\b"), "it contains the separator '\\'");
    EXPECT_EQ(rc::file_name_problem("c:x"), "it contains the separator ':'");
}

TEST(FileNames, RejectsControlBytes) {
    for (int c : {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f}) {
        std::string name = "ab";
        name.insert(name.begin() + 1, static_cast<char>(c));
        EXPECT_EQ(rc::file_name_problem(name), "it contains a control character") << c;
    }
    EXPECT_EQ(rc::file_name_problem(" "), "");  // 0x20 is not a control byte
}

TEST(FileNames, ErrorMessagesShowBytesSafely) {
    try {
        rc::validate_file_name(std::string("a\nb\x7f", 4));
        FAIL() << "no error";
    } catch (const rc::Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(rc::ErrorKind::InvalidArgument));
        EXPECT_EQ(std::string(e.what()), "invalid file name \"a\\x0ab\\x7f\": it contains a control character");
    }
    try {
        rc::validate_file_name(std::string(300, 'z'));
        FAIL() << "no error";
    } catch (const rc::Error& e) {
        EXPECT_EQ(std::string(e.what()), "invalid file name \"" + std::string(64, 'z') + "...\": it is 300 bytes long, more than 255");
    }
}

TEST(FileNames, Join) {
    EXPECT_EQ(rc::join_file_name("/srv/a", "v.ruvec1"), "/srv/a/v.ruvec1");
    EXPECT_EQ(rc::join_file_name("/srv/a/", "v.ruvec1"), "/srv/a/v.ruvec1");
    EXPECT_THROW(rc::join_file_name("/srv/a", "../b"), rc::Error);
    EXPECT_THROW(rc::join_file_name("/srv/a", ".."), rc::Error);
}

TEST(PathContainment, ComparesWholeComponents) {
    EXPECT_TRUE(rc::path_is_within("/srv/a", "/srv/a"));
    EXPECT_TRUE(rc::path_is_within("/srv/a", "/srv/a/b"));
    EXPECT_TRUE(rc::path_is_within("/srv/a", "/srv/a/b/c"));
    EXPECT_FALSE(rc::path_is_within("/srv/a", "/srv/ab"));
    EXPECT_FALSE(rc::path_is_within("/srv/a", "/srv"));
    EXPECT_FALSE(rc::path_is_within("/srv/a", "/srv/b"));
    EXPECT_TRUE(rc::path_is_within("/srv/a/", "/srv/a//b/"));
    EXPECT_TRUE(rc::path_is_within("/", "/anything/at/all"));
    EXPECT_TRUE(rc::path_is_within("/", "/"));
    // Not canonical or not absolute: never contained.
    EXPECT_FALSE(rc::path_is_within("/srv/a", "/srv/a/../b"));
    EXPECT_FALSE(rc::path_is_within("/srv/a", "srv/a/b"));
    EXPECT_FALSE(rc::path_is_within("srv/a", "/srv/a/b"));
    EXPECT_FALSE(rc::path_is_within("", "/srv/a"));
}

TEST(PathContainment, ResolvesSymlinksAndDotDot) {
    rt::ScratchDir scratch;
    const fs::path base = fs::canonical(scratch.path());
    fs::create_directories(base / "a" / "sub");
    fs::create_directories(base / "ab");
    fs::create_directories(base / "outside");
    fs::create_symlink(base / "outside", base / "a" / "escape");
    fs::create_symlink(base / "a" / "sub", base / "outside" / "into_a");
    const std::vector<std::string> roots = {(base / "a").string()};

    EXPECT_EQ(rc::resolve_within_roots(roots, (base / "a").string()), (base / "a").string());
    EXPECT_EQ(rc::resolve_within_roots(roots, (base / "a" / "sub").string()), (base / "a" / "sub").string());
    EXPECT_EQ(rc::resolve_within_roots(roots, (base / "a" / "sub" / ".." / "sub/").string()), (base / "a" / "sub").string());
    // A sibling sharing the prefix is outside.
    EXPECT_FALSE(rc::resolve_within_roots(roots, (base / "ab").string()));
    // ".." out of the root is outside.
    EXPECT_FALSE(rc::resolve_within_roots(roots, (base / "a" / ".." / "outside").string()));
    // A symlink inside the root pointing out of it is outside; one outside pointing in is inside.
    EXPECT_FALSE(rc::resolve_within_roots(roots, (base / "a" / "escape").string()));
    EXPECT_EQ(rc::resolve_within_roots(roots, (base / "outside" / "into_a").string()), (base / "a" / "sub").string());
    // Several roots; roots that do not exist are skipped; a root given through a symlink works.
    EXPECT_TRUE(rc::resolve_within_roots({(base / "missing").string(), (base / "ab").string()}, (base / "ab").string()));
    EXPECT_TRUE(rc::resolve_within_roots({(base / "outside" / "into_a").string()}, (base / "a" / "sub").string()));
    EXPECT_FALSE(rc::resolve_within_roots({}, (base / "a").string()));
}

TEST(PathContainment, Errors) {
    rt::ScratchDir scratch;
    const fs::path base = fs::canonical(scratch.path());
    rt::write_whole_file(base / "file", "x");
    auto kind_of = [](const std::function<void()>& fn) {
        try {
            fn();
        } catch (const rc::Error& e) {
            return static_cast<int>(e.kind());
        }
        return -1;
    };
    const std::vector<std::string> roots = {base.string()};
    EXPECT_EQ(kind_of([&] { rc::resolve_within_roots(roots, "relative/dir"); }), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_EQ(kind_of([&] { rc::resolve_within_roots(roots, ""); }), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_EQ(kind_of([&] { rc::resolve_within_roots(roots, (base / "nope").string()); }), static_cast<int>(rc::ErrorKind::Io));
    EXPECT_EQ(kind_of([&] { rc::resolve_within_roots(roots, (base / "file").string()); }), static_cast<int>(rc::ErrorKind::InvalidArgument));
    EXPECT_EQ(kind_of([&] { rc::resolve_within_roots({"relative"}, base.string()); }), static_cast<int>(rc::ErrorKind::InvalidArgument));
    try {
        rc::canonical_directory((base / "nope").string());
        FAIL() << "no error";
    } catch (const rc::Error& e) {
        EXPECT_EQ(std::string(e.what()), "could not resolve directory \"" + (base / "nope").string() + "\": No such file or directory");
    }
}
