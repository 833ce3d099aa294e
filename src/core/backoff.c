/* SPDX-License-Identifier: MIT */
#include "imapwatch/core/backoff.h"

uint32_t backoff_delay_ms(unsigned attempt, bool resource, uint32_t random)
{
	uint64_t delay = resource ? BACKOFF_RESOURCE_MIN_MS : BACKOFF_MIN_MS;

	for (unsigned i = 0; i < attempt && delay < BACKOFF_MAX_MS; i++) {
		delay *= 2;
	}
	if (delay > BACKOFF_MAX_MS) {
		delay = BACKOFF_MAX_MS;
	}
	uint64_t half = delay / 2;
	return (uint32_t)(half + (uint64_t)random % (delay - half + 1));
}
