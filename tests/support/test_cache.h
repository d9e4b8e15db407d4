// Test inputs that are slow to make (RSA keys, simulated SEV-SNP platforms),
// made once per build of the test binary and shared by its test processes
// (ctest runs every test in a process of its own, so a per-process static
// would make them once per test).
//
// Where: CONCIERGE_TEST_STATE_DIR/cache/<build>/<name>, where <build> names
// the running executable (device, inode, size and modification time of
// /proc/self/exe): a relinked test binary starts an empty cache, so nothing
// cached outlives the code that made it. Caches of other builds are removed
// when a new one is started.
//
// Concurrency: an entry is made under an exclusive file lock (one process
// makes it, the others wait and read it), written under a temporary name and
// renamed into place, so a reader sees a whole entry or none. An entry that
// does not load is made again. Anything that goes wrong with the cache
// (unwritable folder, ...) only costs time: the input is then made afresh.
//
// Honesty: these are inputs, made by the same public functions a test would
// call (PrivateKey::generate_*, SnpSimulator::create), never by hand. Use them
// only where a test does not examine the making itself; tests of key
// generation or of SnpSimulator::create must keep calling those.
#pragma once

#include <string>

#include "concierge/core/private_key.h"
#include "concierge/evidence/snp/simulator.h"

namespace concierge::testing {

// An RSA key of `bits` (2048, 3072 or 4096) made by PrivateKey::generate_rsa;
// keys of different `index` are different keys. Aborts the process if no key
// can be made at all.
PrivateKey cached_rsa_key(int bits, int index = 0);

// A simulator made by SnpSimulator::create(options), saved with save() and
// read back with SnpSimulator::load(). `name` tells apart independent
// platforms made with the same options ("", "other", ...); the options are
// part of the entry's name too. Aborts the process if no simulator can be
// made at all.
evidence::snp::SnpSimulator cached_snp_simulator(const evidence::snp::SimulatorOptions& options,
                                                 const std::string& name = "");

}  // namespace concierge::testing
