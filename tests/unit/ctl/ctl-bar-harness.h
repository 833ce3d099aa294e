/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_CTL_BAR_HARNESS_H
#define IMAPWATCH_TEST_CTL_BAR_HARNESS_H

/* What the ctl tests of status bars share. */

#include "imapwatch/ctl/ctl-bar.h"

/* The status made from a GetStatus dictionary with two accounts: "work"
 * (INBOX 3 unseen, Lists/dev 1) in work_state, and "home" (INBOX 0) in
 * home_state with home_detail (GVariant text: "'wrong password'"); 4
 * unseen in all. Free with ctl_bar_status_free(). */
struct ctl_bar_status *status_of(const char *work_state, const char *home_state,
                                 const char *home_detail);

#endif
