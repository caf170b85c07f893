/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in, see kunit_shim.h */
#include "../kunit_shim.h"
