// registry_loader: load_snapshot builds the whole registry; the reloader
// publishes on request and on file change, keeps the old snapshot when a reload
// (or its prepare hook) fails, and readers stay safe while snapshots are swapped under them.
#include "relaygate/registry/registry_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {
namespace {

class registry_loader_files : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("registry_loader_test." + std::to_string(getpid()));
    registry_options opts;

    void SetUp() override {
        std::filesystem::create_directories(dir);
        opts.admin_file = (dir / "domains.conf").string();
        opts.state_file = (dir / "state.json").string();
        opts.operator_domains = {"Relay.Example.NET"};
        opts.outbound_ips = {"192.0.2.1"};
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    // Replaces the admin file by rename, as editors and config management do.
    void write_admin(const std::string& text) {
        auto tmp = opts.admin_file + ".new";
        std::ofstream(tmp) << text;
        std::filesystem::rename(tmp, opts.admin_file);
    }
    static std::string domains(int n, const std::string& prefix = "d") {
        std::string text;
        for (int i = 0; i < n; ++i) text += prefix + std::to_string(i) + ".example selector=s1 key=/k/a.pem owner=o\n";
        return text;
    }
    // Bounded wait for the reloader thread (not a timing assertion: 10 s is a hang guard).
    static bool wait_for(const std::function<bool()>& done) {
        for (int i = 0; i < 1000; ++i) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return done();
    }
};

TEST_F(registry_loader_files, load_snapshot_joins_entries_states_and_operator_domains) {
    write_admin(domains(3));
    state_map states;
    states["d1.example"].state = verification_state::verified;
    ASSERT_TRUE(write_state_file(opts.state_file, states));
    auto snap = load_snapshot(opts);
    ASSERT_TRUE(snap) << snap.error();
    EXPECT_EQ((*snap)->size(), 3u);
    EXPECT_EQ((*snap)->status_of("d1.example").state, verification_state::verified);
    EXPECT_EQ((*snap)->status_of("d2.example").state, verification_state::pending);
    EXPECT_TRUE((*snap)->is_operator_domain("bounce.relay.example.net"));
}

TEST_F(registry_loader_files, a_missing_state_file_means_all_pending) {
    write_admin(domains(2));
    auto snap = load_snapshot(opts);
    ASSERT_TRUE(snap) << snap.error();
    EXPECT_EQ((*snap)->status_of("d0.example").state, verification_state::pending);
}

TEST_F(registry_loader_files, errors_name_file_line_and_field) {
    write_admin(domains(2) + "bad.example selector=s1 key=relative owner=o\n");
    auto snap = load_snapshot(opts);
    ASSERT_FALSE(snap);
    EXPECT_EQ(snap.error(), opts.admin_file + ":3: key: 'relative': must be an absolute path");
}

TEST_F(registry_loader_files, duplicates_name_both_lines) {
    write_admin(domains(3) + "# again\nD1.Example. selector=s2 key=/k owner=o\n");
    auto snap = load_snapshot(opts);
    ASSERT_FALSE(snap);
    EXPECT_EQ(snap.error(), opts.admin_file + ":5: domain: d1.example is already defined at line 2");
}

TEST_F(registry_loader_files, a_corrupt_state_file_fails_the_load) {
    write_admin(domains(2));
    std::ofstream(opts.state_file) << "{";
    auto snap = load_snapshot(opts);
    ASSERT_FALSE(snap);
    EXPECT_NE(snap.error().find(opts.state_file + ": corrupt state file"), std::string::npos) << snap.error();
}

TEST_F(registry_loader_files, reload_with_a_broken_file_keeps_the_old_snapshot) {
    write_admin(domains(2));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::hours(1));
    write_admin(domains(2) + "broken line here\n");
    EXPECT_FALSE(reloader.reload_now());
    EXPECT_EQ(handle.current()->size(), 2u);
    EXPECT_EQ(reloader.generation(), 0u);
    std::ofstream(opts.state_file) << "not json";
    write_admin(domains(5));
    EXPECT_FALSE(reloader.reload_now()) << "a corrupt state file also keeps the old snapshot";
    EXPECT_EQ(handle.current()->size(), 2u);
    std::filesystem::remove(opts.state_file);
    EXPECT_TRUE(reloader.reload_now());
    EXPECT_EQ(handle.current()->size(), 5u);
    EXPECT_EQ(reloader.generation(), 1u);
}

// Issue 15, problem 5: a state file deleted after it was loaded must not turn
// every domain to pending (451 for every customer); the reload fails loudly
// (counted) and the last good snapshot's states stay in force until it is back.
TEST_F(registry_loader_files, a_state_file_deleted_after_it_was_loaded_fails_the_reload_and_keeps_the_states) {
    write_admin(domains(2));
    state_map states;
    states["d0.example"].state = verification_state::verified;
    ASSERT_TRUE(write_state_file(opts.state_file, states));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::hours(1));
    std::filesystem::remove(opts.state_file);
    write_admin(domains(3));
    EXPECT_FALSE(reloader.reload_now());
    EXPECT_EQ(reloader.failed_reloads(), 1u);
    EXPECT_EQ(handle.current()->size(), 2u);
    EXPECT_EQ(handle.current()->status_of("d0.example").state, verification_state::verified);
    EXPECT_FALSE(reloader.reload_now()) << "still missing: still a failed reload";
    EXPECT_EQ(reloader.failed_reloads(), 2u);
    ASSERT_TRUE(write_state_file(opts.state_file, states));
    EXPECT_TRUE(reloader.reload_now());
    EXPECT_EQ(handle.current()->size(), 3u);
    EXPECT_EQ(handle.current()->status_of("d0.example").state, verification_state::verified);
    EXPECT_EQ(reloader.failed_reloads(), 2u);
}

TEST_F(registry_loader_files, a_failing_prepare_hook_fails_the_reload_and_keeps_the_old_snapshot) {
    write_admin(domains(2));
    registry_handle handle(*load_snapshot(opts));
    std::shared_ptr<const domain_registry> prepared;  // what the hook saw last
    auto hook = [&](const std::shared_ptr<const domain_registry>& s) -> expected<bool, std::string> {
        if (s->size() == 3) return unexpected(std::string("domains.conf:3: key: bad"));
        prepared = s;
        return true;
    };
    registry_reloader reloader(opts, handle, std::chrono::hours(1), hook);
    write_admin(domains(3));
    EXPECT_FALSE(reloader.reload_now());
    EXPECT_EQ(handle.current()->size(), 2u) << "the hook's error is a failed reload";
    EXPECT_EQ(prepared, nullptr);
    write_admin(domains(4));
    EXPECT_TRUE(reloader.reload_now());
    EXPECT_EQ(handle.current()->size(), 4u);
    EXPECT_EQ(prepared, handle.current()) << "the hook ran on the snapshot that was then published";
}

TEST_F(registry_loader_files, request_reload_publishes_from_the_thread) {
    write_admin(domains(1));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::hours(1));  // no polling: only the request can trigger
    write_admin(domains(4));
    reloader.request_reload();
    ASSERT_TRUE(wait_for([&] { return reloader.generation() == 1; }));
    EXPECT_EQ(handle.current()->size(), 4u);
}

TEST_F(registry_loader_files, a_changed_file_is_picked_up_by_polling) {
    write_admin(domains(1));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::milliseconds(20));
    write_admin(domains(7));
    ASSERT_TRUE(wait_for([&] { return handle.current()->size() == 7; }));
    state_map states;
    states["d3.example"].state = verification_state::failed;
    ASSERT_TRUE(write_state_file(opts.state_file, states));
    ASSERT_TRUE(
        wait_for([&] { return handle.current()->status_of("d3.example").state == verification_state::failed; }));
}

TEST_F(registry_loader_files, a_failed_reload_is_not_retried_until_the_file_changes_again) {
    write_admin(domains(1));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::milliseconds(20));
    write_admin("broken\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(handle.current()->size(), 1u);
    write_admin(domains(3));
    ASSERT_TRUE(wait_for([&] { return handle.current()->size() == 3; }));
    EXPECT_EQ(reloader.generation(), 1u);
}

TEST_F(registry_loader_files, readers_during_reloads_always_see_a_whole_snapshot) {
    write_admin(domains(50, "a"));
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::hours(1));
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 6; ++t) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                auto snap = handle.current();
                // Every snapshot is either all "a" domains or all "b" domains, never a mix.
                const bool a = snap->find("a0.example") != nullptr;
                const auto* last = snap->find(std::string(a ? "a" : "b") + "49.example");
                if (last == nullptr || snap->size() != 50) ADD_FAILURE() << "saw a partial snapshot";
                ++reads;
            }
        });
    }
    for (int i = 0; i < 40; ++i) {
        write_admin(domains(50, i % 2 ? "a" : "b"));
        EXPECT_TRUE(reloader.reload_now());
        if (i % 10 == 0) reloader.request_reload();
    }
    stop = true;
    for (auto& r : readers) r.join();
    EXPECT_GE(reloader.generation(), 40u);
    EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace relaygate::registry
