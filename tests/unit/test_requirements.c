/* test_requirements.c - unit tests for lib/requirements.c: which kind each tracked path is */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../lib/requirements.h"

static void test_classify(void **state)
{
	static const struct {
		const char *path;
		int kind;
	} cases[] = {
		{"main.tf", 0},
		{"infra/modules/vpc/vars.tf", 0},
		{"Dockerfile", 1},
		{"svc/Dockerfile.prod", 1},
		{"build/api.dockerfile", 1},
		{"docker-compose.yml", 2},
		{"docker-compose.override.yaml", 2},
		{"compose.yaml", 2},
		{"k8s/deploy.yaml", 3},
		{"apps/web/kubernetes/svc.yml", 3},
		{"manifests/x.json", 3},
		{"charts/web/Chart.yaml", 4},
		{".github/workflows/ci.yml", 5},
		{".github/workflows/sub/ci.yml", -1}, /* only the workflows folder itself */
		{".gitlab-ci.yml", 6},
		{"ci/.gitlab-ci.yml", -1},
		{"Pulumi.yaml", 7},
		{"Pulumi.dev.yaml", -1}, /* SPEC 5.1: Pulumi.y*ml, the project file only */
		{"README.md", -1},
		{"tf", -1},
		{"mydocker-compose.yml", -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hive_requirements_classify(cases[i].path) != cases[i].kind)
			fail_msg("%s: kind %d, expected %d", cases[i].path,
				 hive_requirements_classify(cases[i].path), cases[i].kind);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests_name("requirements", tests, NULL, NULL);
}
