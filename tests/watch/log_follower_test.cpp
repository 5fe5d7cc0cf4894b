// log_follower_test.cpp: the follower on real files in a temporary directory:
// partial lines, restarts, rename+create and copytruncate rotation, overlong
// lines, a missing file. Every line must arrive exactly once.
#include "watch/log_follower.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace relaygate::watch {
namespace {

namespace fs = std::filesystem;

class follower_files : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/watch-follower.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        log = dir + "/maillog";
        pos = dir + "/maillog.position";
    }
    void TearDown() override { fs::remove_all(dir); }
    void append(const std::string& path, const std::string& text) {
        std::ofstream out(path, std::ios::app | std::ios::binary);
        out << text;
    }
    std::vector<std::string> poll(log_follower& f) {
        std::vector<std::string> got;
        f.poll([&](std::string_view l) { got.emplace_back(l); });
        return got;
    }
    std::string dir, log, pos;
};

using lines = std::vector<std::string>;

TEST_F(follower_files, partial_last_line_waits_for_its_newline) {
    log_follower f(log, pos);
    EXPECT_TRUE(poll(f).empty());  // no file yet
    append(log, "one\ntwo\nthr");
    EXPECT_EQ(poll(f), (lines{"one", "two"}));
    EXPECT_EQ(f.position().offset, 8u);
    append(log, "ee\n");
    EXPECT_EQ(poll(f), (lines{"three"}));
    EXPECT_TRUE(poll(f).empty());
}

TEST_F(follower_files, restart_resumes_without_loss_or_double_count) {
    append(log, "a\nb\npart");
    {
        log_follower f(log, pos);
        EXPECT_EQ(poll(f), (lines{"a", "b"}));
        ASSERT_TRUE(f.save_position());
    }
    append(log, "ial\nc\n");
    log_follower g(log, pos);
    EXPECT_EQ(poll(g), (lines{"partial", "c"}));
}

TEST_F(follower_files, rename_and_create_reads_the_old_file_to_its_end_first) {
    log_follower f(log, pos);
    append(log, "1\n2\n");
    EXPECT_EQ(poll(f), (lines{"1", "2"}));
    append(log, "3\n4");  // written just before the rotation, last line unterminated
    fs::rename(log, log + ".1");
    append(log + ".1", "\n5\n");  // a writer that has not reopened yet
    append(log, "6\n7\n");
    EXPECT_EQ(poll(f), (lines{"3", "4", "5", "6", "7"}));
    EXPECT_EQ(f.rotations(), 1u);
    ASSERT_TRUE(f.save_position());
    append(log, "8\n");
    log_follower g(log, pos);
    EXPECT_EQ(poll(g), (lines{"8"}));
}

TEST_F(follower_files, copytruncate_restarts_at_zero) {
    log_follower f(log, pos);
    append(log, "old1\nold2\nold3\n");
    EXPECT_EQ(poll(f), (lines{"old1", "old2", "old3"}));
    fs::resize_file(log, 0);
    append(log, "new1\n");
    EXPECT_EQ(poll(f), (lines{"new1"}));
    EXPECT_EQ(f.truncations(), 1u);
}

TEST_F(follower_files, truncated_while_stopped_restarts_at_zero) {
    append(log, "aaaa\nbbbb\n");
    {
        log_follower f(log, pos);
        EXPECT_EQ(poll(f).size(), 2u);
        ASSERT_TRUE(f.save_position());
    }
    fs::resize_file(log, 0);
    append(log, "c\n");
    log_follower g(log, pos);
    EXPECT_EQ(poll(g), (lines{"c"}));
}

TEST_F(follower_files, rotated_while_stopped_starts_the_new_file_at_zero) {
    append(log, "a\n");
    {
        log_follower f(log, pos);
        EXPECT_EQ(poll(f).size(), 1u);
        ASSERT_TRUE(f.save_position());
    }
    fs::rename(log, log + ".1");
    append(log, "b\n");
    log_follower g(log, pos);
    EXPECT_EQ(poll(g), (lines{"b"}));
}

TEST_F(follower_files, overlong_lines_are_dropped_and_counted) {
    log_follower f(log, pos, 16);
    append(log, "short\n" + std::string(40, 'x') + "\nafter\n" + std::string(70000, 'y'));
    EXPECT_EQ(poll(f), (lines{"short", "after"}));
    append(log, "yyyy\nlast\n");
    EXPECT_EQ(poll(f), (lines{"last"}));
    EXPECT_EQ(f.overlong_lines(), 2u);
}

TEST_F(follower_files, a_garbage_position_file_starts_at_zero) {
    append(pos, "not numbers");
    append(log, "a\n");
    log_follower f(log, pos);
    EXPECT_EQ(poll(f), (lines{"a"}));
}

}  // namespace
}  // namespace relaygate::watch
