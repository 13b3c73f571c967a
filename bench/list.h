/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "../variants/variant.h"
int kcb_list(FILE *out);
/* The same registry, modes included, as one JSON object (list_json.c). */
int kcb_list_json(FILE *out);
/* The controls ("name:BROKEN CONTROL,...") and the proposals' names
 * ("a,b"), through put(): results files say which of their rows are. */
void kcb_list_context(void (*put)(const char *key, const char *val));
/* The hooks each combo has, NULL-terminated. */
extern const char *const kcb_hook_names[];
