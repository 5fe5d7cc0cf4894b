// connection_gate.hpp: the cap on concurrent milter connections
// (max-connections). The shell calls admit() when a connection starts and
// release() when an admitted one ends; a refused connection is answered 451 at
// its connect step (busy_reply). Each call says whether the gate changed
// state (open -> full at the first refusal, full -> open once the active count
// is a tenth below the cap), so the shell logs one line per change, not per
// connection; refused() counts every refusal. Thread-safe, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "relaygate/milter/smtp_reply.hpp"

namespace relaygate::milter {

class connection_gate {
public:
    explicit connection_gate(std::size_t cap) : cap_(cap == 0 ? 1 : cap) {}

    struct admission {
        bool admitted = false;
        bool now_full = false;  // this refusal turned the gate from open to full (log it)
    };
    admission admit();
    // For an admitted connection only; true when this release turned the gate from full to open (log it).
    bool release();

    std::size_t cap() const { return cap_; }
    std::size_t active() const;
    std::uint64_t refused() const;

private:
    std::size_t cap_;
    mutable std::mutex mu_;
    std::size_t active_ = 0;
    std::uint64_t refused_ = 0;
    bool full_ = false;
};

// What a refused connection is told at its connect step: 451 4.3.2, try again later.
const smtp_reply& busy_reply();

}  // namespace relaygate::milter
