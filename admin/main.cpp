// main.cpp: relaygate-admin's entry — the real environment (standard streams,
// the system clock) around admin::run (src/admin_cli.cpp), which does the rest.
#include <chrono>
#include <iostream>

#include "relaygate/admin/admin_command.hpp"

int main(int argc, char** argv) {
    const relaygate::admin::environment env{
        .out = std::cout, .err = std::cerr, .now = [] {
            return static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count());
        }};
    return relaygate::admin::run(std::vector<std::string>(argv + 1, argv + argc), env);
}
