// The JSON-file egress store: never-set families, a flip seen by a second
// reader (another process in production), several families, and a corrupt
// or missing file answered fail-open (nullopt = use the designated transport).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "relaygate/egress/egress_state.hpp"

namespace relaygate::egress {
namespace {

namespace fs = std::filesystem;

class egress_file_store : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rg-egress-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "egress.json").string();
    }
    void TearDown() override { fs::remove_all(dir_); }
    // A reader re-stats at most every 100 ms; wait that out instead of sleeping blindly.
    static void let_cache_expire() { std::this_thread::sleep_for(std::chrono::milliseconds(120)); }

    fs::path dir_;
    std::string path_;
};

TEST_F(egress_file_store, a_family_never_set_has_no_active_route) {
    auto store = make_file_egress_store(path_);
    EXPECT_FALSE(store->active("microsoft").has_value());
    EXPECT_TRUE(store->all().empty());
}

TEST_F(egress_file_store, a_flip_written_by_one_store_is_read_by_another) {
    auto writer = make_file_egress_store(path_);
    auto reader = make_file_egress_store(path_);
    EXPECT_FALSE(reader->active("microsoft").has_value());
    ASSERT_TRUE(writer->set_active({"microsoft", "msft-spare", "dnsbl_listed zen=127.0.0.2", 1700000000}));
    let_cache_expire();
    auto route = reader->active("microsoft");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->family, "microsoft");
    EXPECT_EQ(route->active_transport, "msft-spare");
    EXPECT_EQ(route->reason, "dnsbl_listed zen=127.0.0.2");
    EXPECT_EQ(route->since, 1700000000);

    ASSERT_TRUE(writer->set_active({"microsoft", "msft-out", "delisted", 1700003600}));
    let_cache_expire();
    EXPECT_EQ(reader->active("microsoft")->active_transport, "msft-out");
}

TEST_F(egress_file_store, the_writer_sees_its_own_flip_at_once) {
    auto store = make_file_egress_store(path_);
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "manual", 1}));
    EXPECT_EQ(store->active("microsoft")->active_transport, "msft-spare");
}

TEST_F(egress_file_store, setting_one_family_keeps_the_others) {
    auto a = make_file_egress_store(path_);
    auto b = make_file_egress_store(path_);
    ASSERT_TRUE(a->set_active({"microsoft", "msft-spare", "r1", 1}));
    ASSERT_TRUE(b->set_active({"yahoo", "yahoo-out", "r2", 2}));
    let_cache_expire();
    auto routes = a->all();
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(a->active("microsoft")->active_transport, "msft-spare");
    EXPECT_EQ(a->active("yahoo")->active_transport, "yahoo-out");
}

TEST_F(egress_file_store, a_corrupt_file_reads_as_unset_and_is_not_overwritten_blindly) {
    std::ofstream(path_) << "{ this is not json";
    auto store = make_file_egress_store(path_);
    EXPECT_FALSE(store->active("microsoft").has_value());
    // Writing over a file it cannot parse would drop other families: refuse.
    EXPECT_FALSE(store->set_active({"microsoft", "msft-spare", "r", 1}));
}

TEST_F(egress_file_store, an_entry_without_a_transport_is_ignored) {
    std::ofstream(path_) << R"({"families":{"microsoft":{"reason":"x"},"other":{"active_transport":"o-out"}}})";
    auto store = make_file_egress_store(path_);
    EXPECT_FALSE(store->active("microsoft").has_value());
    EXPECT_EQ(store->active("other")->active_transport, "o-out");
}

TEST_F(egress_file_store, an_unwritable_directory_fails_the_write) {
    auto store = make_file_egress_store((dir_ / "missing-dir" / "egress.json").string());
    EXPECT_FALSE(store->set_active({"microsoft", "msft-spare", "r", 1}));
}

TEST_F(egress_file_store, a_deleted_file_reads_as_unset_again) {
    auto store = make_file_egress_store(path_);
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "r", 1}));
    fs::remove(path_);
    let_cache_expire();
    EXPECT_FALSE(store->active("microsoft").has_value());
}

}  // namespace
}  // namespace relaygate::egress
