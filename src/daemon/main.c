/* SPDX-License-Identifier: MIT */
#include "imapwatch/log.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_setup("imapwatchd");
	return 0;
}
