// A test for `kbisect --bug exit` (git bisect run's contract): the task
// name set with prctl(PR_SET_NAME) must come back whole from PR_GET_NAME.
// Exit 0: it does; 1: the name comes back cut (the planted regression);
// 125: the kernel cannot be tested (prctl itself fails).
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

int main(void)
{
	const char *want = "kbisect-comm-15"; /* 15 characters: the most a name holds */
	char got[32] = { 0 };

	if (prctl(PR_SET_NAME, want, 0, 0, 0) || prctl(PR_GET_NAME, got, 0, 0, 0)) {
		perror("prctl");
		return 125;
	}
	if (strcmp(got, want) != 0) {
		printf("PR_GET_NAME gave \"%s\", want \"%s\"\n", got, want);
		return 1;
	}
	return 0;
}
