#!/bin/bash
# faithd --datapath splice: the relay tests of faithd.sh and faithd_load.sh
# (50 MB each way byte-exact, half-close, resets both ways, 1,000
# concurrent, limits, idle timeout...) with the workers' splice() relay
# alone, which the default (auto: translate) uses before a hand-off and
# where translate cannot run.
. "$(dirname "$0")/lib.sh"
need_root

relay_suites splice --datapath splice
finish
