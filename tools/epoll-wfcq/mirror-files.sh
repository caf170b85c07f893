#!/bin/sh
# The files of the mirror: kernel-tree paths of this repository, i.e.
# MAINTAINERS and everything under fs/ include/ lib/ Documentation/ tools/ but the harness.
cd "$(dirname "$0")/../.." &&
	git ls-files -- MAINTAINERS fs include lib Documentation tools ':!tools/epoll-wfcq'
