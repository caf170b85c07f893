#!/bin/sh
# sparse.sh ARGS...: the sparse that make check passes as CHECK=, forky's,
# run through forky's libc (see herd.sh, which fetches and unpacks it).
exec "$(dirname "$0")/herd.sh" --sparse "$@"
