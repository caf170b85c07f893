/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in, see ../wfcq_shim.h */
#include "../wfcq_shim.h"
