/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "../variants/variant.h"
int kcb_list(FILE *out);
