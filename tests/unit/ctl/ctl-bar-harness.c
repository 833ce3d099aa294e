/* SPDX-License-Identifier: MIT */
#include "ctl-bar-harness.h"

struct ctl_bar_status *status_of(const char *work_state, const char *home_state,
                                 const char *home_detail)
{
	g_autofree char *text = g_strdup_printf(
	    "{'version': <'0.1.0'>, 'uptime': <uint64 5>, 'total_unseen': <uint32 4>,"
	    " 'accounts': <[{'name': <'work'>, 'state': <'%s'>, 'detail': <''>,"
	    "   'folders': <[{'name': <'INBOX'>, 'unseen': <uint32 3>, 'watch': <'idle'>},"
	    "                {'name': <'Lists/dev'>, 'unseen': <uint32 1>}]>},"
	    "  {'name': <'home'>, 'state': <'%s'>, 'detail': <%s>, 'connections': <uint32 0>,"
	    "   'folders': <[{'name': <'INBOX'>, 'unseen': <uint32 0>}]>}]>}",
	    work_state, home_state, home_detail);
	g_autoptr(GVariant) dict = g_variant_ref_sink(g_variant_new_parsed(text));

	return ctl_bar_status_new(dict);
}
