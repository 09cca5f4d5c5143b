// Files opened relative to an open directory: symbolic links refused, FIFOs and directories refused,
// names confined to the directory, a handle that keeps naming its directory when the path changes,
// atomic writes through a handle, and the payload digests of .rbpx files and sidecars.
#include "rulake/core/directory_handle.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include "lake_test_support.hpp"
#include "rulake/core/atomic_file.hpp"
#include "rulake/core/bundle_json.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/rbpx_file.hpp"
#include "rulake/core/shake256.hpp"
#include "rulake/core/witness.hpp"

namespace rc = rulake::core;
namespace rt = rulake::test;
namespace fs = std::filesystem;

namespace {

struct Failure {
    rc::ErrorKind kind = rc::ErrorKind::Internal;
    std::string message;
};
// What fn throws; fails the test when it throws nothing.
Failure failure_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const rc::Error& e) {
        return {e.kind(), e.what()};
    }
    ADD_FAILURE() << "no error thrown";
    return {};
}

bool mentions(const Failure& f, const std::string& text) { return f.message.find(text) != std::string::npos; }

std::string read_all(const rc::OpenedFile& file) {
    std::string bytes(static_cast<size_t>(file.status.size), '\0');
    bytes.resize(rc::read_at(file.fd.get(), bytes.data(), bytes.size(), 0, "test file", file.path));
    return bytes;
}

std::string canonical(const rt::ScratchDir& dir) { return fs::canonical(dir.path()).string(); }

}  // namespace

TEST(DirectoryHandle, OpensRegularFilesByName) {
    rt::ScratchDir dir;
    rt::write_whole_file(dir / "a.bin", "hello");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    EXPECT_EQ(handle.path(), canonical(dir));
    const rc::OpenedFile file = handle.open_file("a.bin", "test file");
    EXPECT_EQ(file.path, canonical(dir) + "/a.bin");
    EXPECT_EQ(file.status.size, 5u);
    EXPECT_EQ(read_all(file), "hello");
    EXPECT_FALSE(handle.open_file_if_exists("missing.bin", "test file"));
    const Failure missing = failure_of([&] { handle.open_file("missing.bin", "test file"); });
    EXPECT_EQ(missing.kind, rc::ErrorKind::Io);
    EXPECT_TRUE(mentions(missing, "could not open test file")) << missing.message;
    EXPECT_TRUE(handle.has_entry("a.bin"));
    EXPECT_FALSE(handle.has_entry("missing.bin"));
}

TEST(DirectoryHandle, RefusesSymbolicLinksInsteadOfFollowingThem) {
    rt::ScratchDir dir, outside;
    rt::write_whole_file(outside / "secret", "secret");
    rt::write_whole_file(dir / "real.bin", "inside");
    fs::create_symlink(outside / "secret", dir / "escape.bin");
    fs::create_symlink("real.bin", dir / "inner_link.bin");
    fs::create_symlink(dir / "nowhere", dir / "dangling.bin");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    for (const char* name : {"escape.bin", "inner_link.bin", "dangling.bin"}) {
        const Failure f = failure_of([&] { handle.open_file(name, "test file"); });
        EXPECT_EQ(f.kind, rc::ErrorKind::Io) << name;
        EXPECT_TRUE(mentions(f, "test file \"" + canonical(dir) + "/" + name + "\" is a symbolic link")) << f.message;
    }
    EXPECT_TRUE(handle.has_entry("dangling.bin"));  // the link itself exists
}

TEST(DirectoryHandle, RefusesWhatIsNotARegularFile) {
    rt::ScratchDir dir;
    fs::create_directory(dir / "sub");
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    for (const char* name : {"sub", "fifo"}) {  // a FIFO is refused without waiting for a writer
        const Failure f = failure_of([&] { handle.open_file(name, "test file"); });
        EXPECT_EQ(f.kind, rc::ErrorKind::InvalidArgument) << name;
        EXPECT_TRUE(mentions(f, "is not a regular file")) << f.message;
    }
}

TEST(DirectoryHandle, NamesStayInsideTheDirectory) {
    rt::ScratchDir dir;
    fs::create_directory(dir / "sub");
    rt::write_whole_file(dir / "sub" / "x", "x");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    for (const char* name : {"sub/x", "..", ".", "", "a\\b", "c:d"}) {
        EXPECT_EQ(failure_of([&] { handle.open_file(name, "test file"); }).kind, rc::ErrorKind::InvalidArgument) << name;
        EXPECT_EQ(failure_of([&] { handle.remove_file(name); }).kind, rc::ErrorKind::InvalidArgument) << name;
    }
}

TEST(DirectoryHandle, CanonicalOpeningRefusesSymbolicLinkComponents) {
    rt::ScratchDir dir;
    fs::create_directory(dir / "real");
    fs::create_directory_symlink(dir / "real", dir / "link");
    const std::string base = canonical(dir);
    EXPECT_EQ(rc::DirectoryHandle::open_canonical(base + "/real").path(), base + "/real");
    Failure f = failure_of([&] { rc::DirectoryHandle::open_canonical(base + "/link"); });
    EXPECT_EQ(f.kind, rc::ErrorKind::Io);
    EXPECT_TRUE(mentions(f, "directory \"" + base + "/link\" is a symbolic link")) << f.message;
    f = failure_of([&] { rc::DirectoryHandle::open_canonical(base + "/real/../real"); });
    EXPECT_EQ(f.kind, rc::ErrorKind::InvalidArgument);
    EXPECT_EQ(failure_of([&] { rc::DirectoryHandle::open_canonical("relative"); }).kind, rc::ErrorKind::InvalidArgument);
    EXPECT_EQ(failure_of([&] { rc::DirectoryHandle::open_canonical(base + "/missing"); }).kind, rc::ErrorKind::Io);
    // The plain opening follows links (for paths trusted callers give).
    EXPECT_EQ(rc::DirectoryHandle::open(base + "/link").path(), base + "/link");
}

TEST(DirectoryHandle, KeepsNamingTheDirectoryItOpened) {
    rt::ScratchDir dir, outside;
    fs::create_directory(dir / "d");
    rt::write_whole_file(dir / "d" / "f", "original");
    rt::write_whole_file(outside / "f", "swapped in");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir) + "/d");
    // The path is taken over by a symbolic link to another directory after the handle was opened.
    fs::rename(dir / "d", dir / "moved");
    fs::create_directory_symlink(outside.path(), dir / "d");
    EXPECT_EQ(read_all(handle.open_file("f", "test file")), "original");
    rc::write_file_atomically(handle, "g", "written", "test file");
    EXPECT_EQ(rt::read_whole_file(dir / "moved" / "g"), "written");
    EXPECT_FALSE(fs::exists(outside / "g"));
}

TEST(DirectoryHandle, SubdirectoriesEntriesAndRemoval) {
    rt::ScratchDir dir, outside;
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    const rc::DirectoryHandle sub = handle.make_subdirectory("sub");
    EXPECT_TRUE(fs::is_directory(dir / "sub"));
    EXPECT_EQ(handle.make_subdirectory("sub").path(), sub.path());  // an existing one is opened
    fs::create_directory_symlink(outside.path(), dir / "link");
    EXPECT_TRUE(mentions(failure_of([&] { handle.make_subdirectory("link"); }), "is a symbolic link"));
    rt::write_whole_file(dir / "f", "x");
    std::vector<std::string> names = handle.entry_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"f", "link", "sub"}));
    handle.remove_file("f");
    handle.remove_file("f");  // missing: nothing to do
    EXPECT_FALSE(fs::exists(dir / "f"));
    handle.remove_file("link");  // removes the link, not what it points to
    EXPECT_TRUE(fs::exists(outside.path()));
    handle.sync();
    EXPECT_EQ(handle.duplicate().path(), handle.path());
}

TEST(DirectoryHandle, AtomicWritesReplaceASymbolicLinkInsteadOfWritingThroughIt) {
    rt::ScratchDir dir, outside;
    rt::write_whole_file(outside / "victim", "untouched");
    fs::create_symlink(outside / "victim", dir / "target");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    rc::write_file_atomically(handle, "target", "new content", "test file");
    EXPECT_EQ(rt::read_whole_file(outside / "victim"), "untouched");
    EXPECT_FALSE(fs::is_symlink(dir / "target"));
    EXPECT_EQ(rt::read_whole_file(dir / "target"), "new content");
}

TEST(DirectoryHandle, WriterDigestIsTheDigestOfTheFinishedFile) {
    rt::ScratchDir dir;
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    rc::AtomicFileWriter writer(handle, "out.bin", "test file");
    std::string expected(300000, 'q');
    writer.write(expected);
    writer.overwrite_at(1, "AB", 2);
    expected.replace(1, 2, "AB");
    const std::string digest = writer.shake256_hex();
    writer.commit();
    EXPECT_EQ(digest, rc::to_hex(rc::shake256(expected, rc::kFileDigestBytes)));
    EXPECT_EQ(rt::read_whole_file(dir / "out.bin"), expected);
}

TEST(DirectoryHandle, RbpxDigestsOfWriterAndReaderAgree) {
    rt::ScratchDir dir;
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    rc::RbpxWriter writer(handle, "cache.rbpx", 3, 42, 20, rc::RotationKind::Hadamard);
    for (uint64_t id = 0; id < 5000; ++id) {
        const float v[3] = {static_cast<float>(id), 0.5f, -1.0f};
        writer.append(id * 7, v);
    }
    writer.commit();
    const std::string bytes = rt::read_whole_file(dir / "cache.rbpx");
    EXPECT_EQ(writer.file_bytes(), bytes.size());
    EXPECT_EQ(writer.shake256_hex(), rc::to_hex(rc::shake256(bytes, rc::kFileDigestBytes)));

    rc::RbpxReader reader(handle.open_file("cache.rbpx", "rbpx file"));
    reader.track_digest();
    EXPECT_EQ(failure_of([&] { reader.digest_hex(); }).kind, rc::ErrorKind::Internal);  // nothing read yet
    rc::VectorBatch batch;
    while (reader.next(batch, 777) > 0) {
    }
    EXPECT_EQ(reader.digest_hex(), writer.shake256_hex());
    // The reference's version-1 file: the digest covers its 32-byte header too.
    const fs::path reference = rt::reference_file("sample.rbpx");
    rc::RbpxReader v1(reference.string());
    v1.track_digest();
    while (v1.next(batch, 33) > 0) {
    }
    EXPECT_EQ(v1.digest_hex(), rc::to_hex(rc::shake256(rt::read_whole_file(reference), rc::kFileDigestBytes)));
}

TEST(DirectoryHandle, SidecarsAreReadWithoutFollowingLinks) {
    rt::ScratchDir dir, outside;
    fs::copy_file(rt::reference_file("table.rulake.json"), outside / "table.rulake.json");
    fs::create_symlink(outside / "table.rulake.json", dir / "table.rulake.json");
    const rc::DirectoryHandle handle = rc::DirectoryHandle::open_canonical(canonical(dir));
    const Failure f = failure_of([&] { rc::read_bundle_in(handle); });
    EXPECT_EQ(f.kind, rc::ErrorKind::Io);
    EXPECT_TRUE(mentions(f, "bundle file \"" + canonical(dir) + "/table.rulake.json\" is a symbolic link")) << f.message;
    fs::remove(dir / "table.rulake.json");
    EXPECT_FALSE(rc::read_bundle_in(handle));
    const rc::Bundle bundle = rc::make_bundle({"x", 1, 2, 3, rc::Generation::number(4)});
    rc::write_bundle_in(handle, bundle);
    EXPECT_EQ(rc::read_bundle_in(handle), bundle);
}
