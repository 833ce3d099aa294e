/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_TEMPLATE_H
#define IMAPWATCH_CTL_TEMPLATE_H

/*
 * ctl_template: the templates of `imapwatch status --format` and `imapwatch
 * monitor --format / --offline`, pure. Text with fields in braces:
 *
 *   {unseen}                 unseen messages in every watched folder
 *   {state}                  the overall state (ctl_bar_state)
 *   {accounts}               how many accounts
 *   {unseen:ACCOUNT}         unseen messages of one account
 *   {state:ACCOUNT}          the state of one account
 *   {unseen:ACCOUNT/FOLDER}  unseen messages of one folder
 *
 * and "{{" / "}}" for a brace. The account is everything up to the first
 * '/' (account names cannot contain one); an account or folder name cannot
 * contain a brace. A template for the time the daemon is not running (the
 * offline text) knows only the state fields, which then read "offline":
 * nothing else is known.
 */

#include "imapwatch/ctl/ctl-bar.h"

#include <glib.h>
#include <stdbool.h>

struct ctl_template;

/* Parses text. offline: the offline text (state fields only). NULL with
 * *error (a sentence for people that names the field, or the place of a
 * stray brace, and what is valid) when text is not a template. Free the
 * result with ctl_template_free(). */
struct ctl_template *ctl_template_parse(const char *text, bool offline, char **error);

/* Accepts NULL. */
void ctl_template_free(struct ctl_template *template);
typedef struct ctl_template ctl_template;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ctl_template, ctl_template_free)

/* Whether every account and folder the template names is in status (a
 * running daemon's); else false with *error naming the first field that
 * is not, and the accounts or folders there are. */
bool ctl_template_check(const struct ctl_template *template, const struct ctl_bar_status *status,
                        char **error);

/* The text with its fields filled from status; a field naming an account
 * or folder that status does not have reads "?". New string. */
char *ctl_template_render(const struct ctl_template *template, const struct ctl_bar_status *status);

#endif
