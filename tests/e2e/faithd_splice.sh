#!/bin/bash
# faithd --datapath splice (the fall-back where translate, the default,
# cannot load): the relay tests of faithd.sh and faithd_load.sh.
. "$(dirname "$0")/lib.sh"
need_root

relay_suites splice --datapath splice

finish
