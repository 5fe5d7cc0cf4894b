# Finds every library relaygate links, each as an imported target named
# relaygate::<name>. A missing one stops configuration with the Debian package
# that provides it (scripts/install-deps installs them all).
find_package(PkgConfig REQUIRED)

function(relaygate_require_pkg name module debian_package)
  pkg_check_modules(${name} IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "relaygate: ${module} not found; install Debian package ${debian_package} (scripts/install-deps does)")
  endif()
  add_library(relaygate::${name} ALIAS PkgConfig::${name})
endfunction()

relaygate_require_pkg(unbound libunbound libunbound-dev)
relaygate_require_pkg(opendkim opendkim libopendkim-dev)
relaygate_require_pkg(milter milter libmilter-dev)
relaygate_require_pkg(hiredis hiredis libhiredis-dev)
relaygate_require_pkg(sqlite3 sqlite3 libsqlite3-dev)
relaygate_require_pkg(openssl openssl libssl-dev)
relaygate_require_pkg(idn2 libidn2 libidn2-dev)

# libspf2 ships no pkg-config file on Debian.
find_path(SPF2_INCLUDE_DIR spf2/spf.h)
find_library(SPF2_LIBRARY spf2)
if(NOT SPF2_INCLUDE_DIR OR NOT SPF2_LIBRARY)
  message(FATAL_ERROR "relaygate: libspf2 not found; install Debian package libspf2-dev (scripts/install-deps does)")
endif()
add_library(relaygate::spf2 UNKNOWN IMPORTED GLOBAL)
set_target_properties(relaygate::spf2 PROPERTIES IMPORTED_LOCATION ${SPF2_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${SPF2_INCLUDE_DIR})

find_package(Boost 1.74 QUIET COMPONENTS program_options)
if(NOT Boost_FOUND)
  message(FATAL_ERROR "relaygate: Boost.Program_options not found; install Debian package libboost-program-options-dev")
endif()
find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "relaygate: nlohmann-json not found; install Debian package nlohmann-json3-dev")
endif()
find_package(Threads REQUIRED)
if(NOT RELAYGATE_FUZZ AND RELAYGATE_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "relaygate: GoogleTest not found; install Debian packages libgtest-dev libgmock-dev")
  endif()
endif()
