// Pins the docker compose plugin that .ci/run builds to check docker-compose.yml; see scripts/setup-tools.sh.
//go:build tools

package tools

import _ "github.com/docker/compose/v2/cmd"
