// dns_resolver.cpp: dns::resolver over libunbound (see dns_resolver.hpp).
// One event thread owns the ub_ctx's result fd: it starts queued queries (at
// most max_in_flight at once), runs ub_process, and enforces each query's
// deadline itself (libunbound has none): the caller gets status::timeout, and
// the query stays counted in flight ("abandoned") until libunbound finishes
// it. Why not ub_cancel: with a thread (ub_ctx_async(ctx, 1)) it only marks
// the query cancelled, and libunbound keeps its state until the query ends on
// its own — uncounted, that grew the policy daemon by ~5.5 KB per domain while
// DNS was down (issue 15). So libunbound never holds more than max_in_flight
// queries; an abandoned one still running after abandon_limit is cancelled and
// its slot freed. A query queued longer than the timeout is answered timeout
// without being sent. Callbacks run exactly once, on this thread. Set-up
// follows postfix-tech.md §5 D.
#include "relaygate/dns/dns_resolver.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "relaygate/dns/dns_message.hpp"
#include "relaygate/log/log.hpp"

namespace relaygate::dns {

namespace {

using clock = std::chrono::steady_clock;

std::string normalise(std::string_view name) {
    std::string out(name);
    if (!out.empty() && out.back() == '.') out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Adds one record's rdata of type t to a; false when it does not parse.
bool add_record(answer& a, rr_type t, wire::bytes rd) {
    switch (t) {
        case rr_type::txt:
            if (auto s = wire::txt_strings(rd)) {
                std::string joined;
                for (auto& part : *s) joined += part;
                a.txt.push_back(std::move(joined));
                return true;
            }
            return false;
        case rr_type::mx:
            if (auto m = wire::mx(rd)) return a.mx.push_back(std::move(*m)), true;
            return false;
        case rr_type::a:
        case rr_type::aaaa:
            if (auto ad = wire::address(rd)) return a.addresses.push_back(std::move(*ad)), true;
            return false;
        case rr_type::ns:
        case rr_type::cname:
        case rr_type::ptr:
            if (auto n = wire::name(rd)) return a.names.push_back(std::move(*n)), true;
            return false;
    }
    return false;
}

// Decodes one libunbound result into an answer (pure apart from reading r).
void fill_answer(answer& a, int err, const ub_result* r) {
    if (err != 0 || r == nullptr) {
        a.result = status::error;
        a.error_text = ub_strerror(err);
        return;
    }
    if (r->answer_packet != nullptr && r->answer_len > 0) {
        auto* p = static_cast<const unsigned char*>(r->answer_packet);
        a.packet.assign(p, p + r->answer_len);
    }
    a.canonical_name = r->canonname != nullptr ? normalise(r->canonname) : a.qname;
    a.ttl = r->ttl > 0 ? static_cast<std::uint32_t>(r->ttl) : 0;
    if (r->rcode == 3 || r->nxdomain) {
        a.result = status::nxdomain;
    } else if (r->rcode == 2) {
        a.result = status::servfail;
        a.error_text = "SERVFAIL";
    } else if (r->rcode != 0) {
        a.result = status::servfail;
        a.error_text = "rcode " + std::to_string(r->rcode);
    } else if (!r->havedata) {
        a.result = status::nodata;
    } else {
        a.result = status::ok;
    }
    if (a.result == status::nxdomain || a.result == status::nodata) {
        if (auto neg = wire::negative_ttl(a.packet)) a.ttl = *neg;
        return;
    }
    if (a.result != status::ok) return;
    for (int i = 0; r->data[i] != nullptr; ++i) {
        wire::bytes rd(reinterpret_cast<const unsigned char*>(r->data[i]), static_cast<std::size_t>(r->len[i]));
        if (!add_record(a, static_cast<rr_type>(r->qtype), rd)) {
            a.result = status::error;
            a.error_text = "malformed rdata in answer";
            return;
        }
    }
    std::stable_sort(a.mx.begin(), a.mx.end(), [](const mx_record& x, const mx_record& y) {
        return x.preference != y.preference ? x.preference < y.preference : x.exchange < y.exchange;
    });
}

}  // namespace

struct resolver::impl {
    struct query {
        std::string name;
        rr_type type;
        callback cb;
        clock::time_point queued{};
    };
    struct running {
        query q;
        int ub_id = -1;
        clock::time_point deadline;
        bool abandoned = false;                                  // the caller got its timeout
        std::unique_ptr<std::pair<impl*, std::uint64_t>> token;  // libunbound's mydata
    };

    resolver_options options;
    ub_ctx* ctx = nullptr;
    int wake_fd = -1;
    std::thread thread;

    std::mutex mutex;  // guards queue and stopping
    std::deque<query> queue;
    bool stopping = false;

    // Event thread only.
    std::unordered_map<std::uint64_t, running> in_flight;
    std::deque<std::pair<clock::time_point, std::uint64_t>> deadlines;  // equal timeouts: in dispatch order
    std::deque<std::pair<clock::time_point, std::uint64_t>> reap;       // abandoned: cancel at this time
    std::size_t abandoned = 0;
    std::uint64_t next_id = 1;

    explicit impl(resolver_options opts) : options(std::move(opts)) {}
    ~impl() {
        if (ctx != nullptr) ub_ctx_delete(ctx);
        if (wake_fd >= 0) close(wake_fd);
    }

    void setup() {
        ctx = ub_ctx_create();
        if (ctx == nullptr) throw std::runtime_error("dns: ub_ctx_create failed");
        auto check = [](int rc, std::string_view what) {
            if (rc != 0) throw std::runtime_error("dns: " + std::string(what) + ": " + ub_strerror(rc));
        };
        check(ub_ctx_async(ctx, 1), "ub_ctx_async");
        check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "do-not-query-localhost");
        // Keep probing a forwarder after timeouts, so one dead name cannot mark it down for everyone.
        check(ub_ctx_set_option(ctx, "infra-keep-probing:", "yes"), "infra-keep-probing");
        // A server that does not answer is given up within about the query timeout,
        // so queries we abandoned end (and free their slot) soon after it.
        auto max_rtt = std::to_string(std::max<std::int64_t>(options.timeout.count(), 1000));
        check(ub_ctx_set_option(ctx, "infra-cache-max-rtt:", max_rtt.c_str()), "infra-cache-max-rtt");
        auto per_thread = std::to_string(std::max<std::size_t>(options.max_in_flight, 64));
        check(ub_ctx_set_option(ctx, "num-queries-per-thread:", per_thread.c_str()), "num-queries-per-thread");
        if (options.forwarders.empty()) {
            check(ub_ctx_resolvconf(ctx, nullptr), "resolv.conf");
        }
        for (const auto& f : options.forwarders) check(ub_ctx_set_fwd(ctx, f.c_str()), "forwarder " + f);
        // Must come after set_fwd: it finalizes the context (postfix-tech.md §5 D).
        if (options.remove_builtin_test_zone) {
            check(ub_ctx_zone_remove(ctx, "test."), "remove test. zone");
            // Some RFC 6303 reverse zones too (documentation prefixes, 192.168/16), so that test
            // DNS servers can serve the PTR records of the RFC 7208 suite (ptr, %{p}).
            for (const char* z : {"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
                                  "168.192.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."}) {
                check(ub_ctx_zone_remove(ctx, z), std::string("remove ") + z + " zone");
            }
        }
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd < 0) throw std::runtime_error("dns: eventfd failed");
    }

    static void on_result(void* data, int err, ub_result* r) {
        auto* token = static_cast<std::pair<impl*, std::uint64_t>*>(data);
        token->first->finish(token->second, err, r);
    }

    // Completes in-flight query id with libunbound's result (r is freed here).
    void finish(std::uint64_t id, int err, ub_result* r) {
        auto it = in_flight.find(id);
        if (it == in_flight.end() || it->second.abandoned) {  // late: the caller had its timeout
            if (it != in_flight.end()) {
                in_flight.erase(it);
                --abandoned;
            }
            if (r != nullptr) ub_resolve_free(r);
            return;
        }
        running done = std::move(it->second);
        in_flight.erase(it);
        answer a;
        a.qname = done.q.name;
        fill_answer(a, err, r);
        if (r != nullptr) ub_resolve_free(r);
        deliver(done.q.cb, a);
    }

    static void deliver(const callback& cb, const answer& a) {
        try {
            cb(a);
        } catch (const std::exception& e) {
            log::error("- dns_callback_exception qname=" + log::quote(a.qname) + " error=" + log::quote(e.what()));
        } catch (...) {
            log::error("- dns_callback_exception qname=" + log::quote(a.qname));
        }
    }

    static void deliver_status(query& q, status s, std::string text) {
        answer a;
        a.result = s;
        a.qname = q.name;
        a.canonical_name = q.name;
        a.error_text = std::move(text);
        deliver(q.cb, a);
    }

    void start(query q) {
        std::uint64_t id = next_id++;
        auto& run = in_flight[id];
        run.q = std::move(q);
        run.deadline = clock::now() + options.timeout;
        run.token = std::make_unique<std::pair<impl*, std::uint64_t>>(this, id);
        deadlines.emplace_back(run.deadline, id);
        int ub_id = -1;
        int rc = ub_resolve_async(ctx, run.q.name.c_str(), static_cast<int>(run.q.type), 1, run.token.get(),
                                  &impl::on_result, &ub_id);
        auto it = in_flight.find(id);  // a synchronous callback may already have finished it
        if (it == in_flight.end()) return;
        if (rc != 0) {
            query failed = std::move(it->second.q);
            in_flight.erase(it);
            deliver_status(failed, status::error, ub_strerror(rc));
            return;
        }
        it->second.ub_id = ub_id;
    }

    void expire(clock::time_point now) {
        while (!deadlines.empty() && deadlines.front().first <= now) {
            auto id = deadlines.front().second;
            deadlines.pop_front();
            auto it = in_flight.find(id);
            if (it == in_flight.end()) continue;  // answered in time
            query q = std::move(it->second.q);
            if (it->second.ub_id >= 0) {
                it->second.abandoned = true;  // still libunbound's: keeps its slot until it ends
                ++abandoned;
                reap.emplace_back(now + abandon_limit(), id);
            } else {
                in_flight.erase(it);
            }
            deliver_status(q, status::timeout, "no answer within " + std::to_string(options.timeout.count()) + " ms");
        }
        // The last resort for a query libunbound never ends: cancel it and free the slot.
        while (!reap.empty() && reap.front().first <= now) {
            auto it = in_flight.find(reap.front().second);
            reap.pop_front();
            if (it == in_flight.end() || !it->second.abandoned) continue;
            ub_cancel(ctx, it->second.ub_id);
            in_flight.erase(it);
            --abandoned;
        }
    }

    clock::duration abandon_limit() const {
        return std::max<clock::duration>(10 * options.timeout, std::chrono::seconds(60));
    }

    // Queries that waited for a slot longer than the timeout are answered without being sent.
    void expire_queued(clock::time_point now) {
        std::deque<query> late;
        {
            std::lock_guard lock(mutex);
            while (!queue.empty() && queue.front().queued + options.timeout <= now) {
                late.push_back(std::move(queue.front()));
                queue.pop_front();
            }
        }
        for (auto& q : late) {
            deliver_status(q, status::timeout,
                           "not sent within " + std::to_string(options.timeout.count()) + " ms (resolver busy)");
        }
    }

    void run_loop() {
        while (true) {
            std::deque<query> starting;
            {
                std::lock_guard lock(mutex);
                if (stopping) break;
                while (!queue.empty() && in_flight.size() + starting.size() < options.max_in_flight) {
                    starting.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            for (auto& q : starting) start(std::move(q));
            int wait_ms = -1;
            if (!deadlines.empty()) {
                auto left = std::chrono::ceil<std::chrono::milliseconds>(deadlines.front().first - clock::now());
                wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
            }
            if (abandoned > 0 || !reap.empty()) {
                // Queued queries may be waiting for slots held by abandoned ones: look again soon.
                wait_ms = wait_ms < 0 ? 100 : std::min(wait_ms, 100);
            }
            pollfd fds[2] = {{.fd = ub_fd(ctx), .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
            int n = poll(fds, 2, wait_ms);
            if (n > 0 && (fds[0].revents & POLLIN)) ub_process(ctx);
            if (n > 0 && (fds[1].revents & POLLIN)) {
                std::uint64_t v;
                [[maybe_unused]] auto got = read(wake_fd, &v, sizeof v);
            }
            expire(clock::now());
            expire_queued(clock::now());
        }
        // Shutdown: every query still owed an answer gets one.
        for (auto& [id, run] : in_flight) {
            if (run.ub_id >= 0) ub_cancel(ctx, run.ub_id);
            if (!run.abandoned) deliver_status(run.q, status::error, "resolver stopped");
        }
        in_flight.clear();
        std::deque<query> rest;
        {
            std::lock_guard lock(mutex);
            rest.swap(queue);
        }
        for (auto& q : rest) deliver_status(q, status::error, "resolver stopped");
    }

    void wake() {
        std::uint64_t one = 1;
        [[maybe_unused]] auto put = write(wake_fd, &one, sizeof one);
    }
};

resolver::resolver(resolver_options options) : impl_(std::make_unique<impl>(std::move(options))) {
    impl_->setup();
    impl_->thread = std::thread([this] { impl_->run_loop(); });
}

resolver::~resolver() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake();
    impl_->thread.join();
}

void resolver::resolve_async(std::string_view name, rr_type type, callback cb) {
    impl::query q{.name = normalise(name), .type = type, .cb = std::move(cb), .queued = clock::now()};
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stopping) {
            impl_->queue.push_back(std::move(q));
            impl_->wake();
            return;
        }
    }
    impl::deliver_status(q, status::error, "resolver stopped");
}

answer resolver::resolve(std::string_view name, rr_type type) {
    if (std::this_thread::get_id() == impl_->thread.get_id()) {
        answer a;
        a.qname = normalise(name);
        a.canonical_name = a.qname;
        a.error_text = "resolve() called on the resolver's event thread (would deadlock)";
        return a;
    }
    std::promise<answer> done;
    auto got = done.get_future();
    resolve_async(name, type, [&done](const answer& a) { done.set_value(a); });
    return got.get();
}

}  // namespace relaygate::dns
